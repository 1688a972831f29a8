-- Fluent Bit Lua filter for the crypto-assistant service logs (LuaJIT 2.1, Lua 5.1 syntax).
--
-- sanitize(tag, timestamp, record) runs on every record after the app_json parser, before routing:
--   1. a line that was not JSON ({"log": "..."}) becomes a record with message, level WARNING
--      and context.unparsed = true, so it still reaches the central store and can be found;
--   2. service and timestamp are filled in when missing (from the tag "logs.<service>" and the
--      record time), because the routing rules read them;
--   3. level is normalised to DEBUG | INFO | WARNING | ERROR | CRITICAL (warn, err, fatal, ...);
--   4. secrets are masked as "***", a second line of defence behind crypto_observability.shared.redaction:
--      values under secret-looking keys (password, api_key, X-MBX-APIKEY, *token, signature, db_pass, ...;
--      not token="ETH" nor password_changed_at),
--      Telegram bot tokens anywhere in a string ("/bot123:AA...", "123456:AA..."), Bearer/Basic/Digest
--      credentials,
--      secret query parameters (?apiKey=..&signature=..), URL credentials and PEM private keys.
-- Fluent Bit's contract: return -1 to drop, 0 to keep unchanged, 2 when only the record changed.

local MASK = "***"
local MAX_DEPTH = 12
-- A string longer than this is cut (after redaction, with a marker), as crypto_observability.shared.redaction cuts
-- fields: every pattern then reads a bounded input, so one 1 MB message costs what 64 kB costs.
local MAX_CHARS = 65536
local LOOKAHEAD = 4096  -- read past the cut so a secret straddling it is still masked

local LEVELS = {
  trace = "DEBUG", debug = "DEBUG",
  info = "INFO", information = "INFO", notice = "INFO",
  warn = "WARNING", warning = "WARNING",
  err = "ERROR", error = "ERROR",
  crit = "CRITICAL", critical = "CRITICAL", fatal = "CRITICAL", alert = "CRITICAL",
  emerg = "CRITICAL", panic = "CRITICAL",
}

-- Key rules, as crypto_observability/shared/_redaction_patterns.py (tests/deploy check that both agree): a name
-- is split into words (snake, kebab, camelCase); a secret word (db_pass, x-auth, wallet_seed, sig) or a
-- secret stem (password, apikey, ...) makes it secret, unless its last word only describes the secret
-- (password_changed_at, credentials_path); "token" with an asset qualifier (token, base_token) keeps a
-- value shaped like an asset symbol (ETH, BTC/USDT).
local function set(list)
  local out = {}
  for _, item in ipairs(list) do
    out[item] = true
  end
  return out
end
local SECRET_EXACT = set({ "session", "sessionid", "setcookie", "webhook", "webhookurl" })
local SECRET_WORDS = set({
  "pass", "pwd", "pw", "passwd", "password", "passphrase", "secret", "secrets", "seed", "pk", "sk", "private",
  "hmac", "sig", "sign", "auth", "otp", "jwt", "dsn", "cookie", "cookies", "creds", "credential", "credentials",
  "mnemonic", "privkey", "apikey",
})
local SECRET_CONTAINS = {
  "password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey", "privkey",
  "signature", "authorization", "credential", "mnemonic", "seedphrase",
}
local SECRET_SUFFIXES = { "apisign", "accesssign", "cookie" }
local KEY_OWNERS = set({
  "signing", "encryption", "encrypt", "decryption", "master", "client", "consumer", "app", "ssh", "gpg", "pgp",
  "wallet", "license", "shared", "session", "access", "api", "bot", "account",
})
local ASSET_TOKEN_QUALIFIERS = set({
  "", "base", "quote", "from", "to", "in", "out", "input", "output", "src", "source", "dst", "dest", "target",
  "fee", "gas", "reward", "native", "stake", "staked", "wrapped", "pay", "buy", "sell", "collateral", "debt",
  "borrow", "lend", "deposit", "withdraw", "settle", "settlement", "margin", "underlying", "payment", "asset",
  "quoted", "counter", "primary", "secondary",
})
local METADATA_WORDS = set({
  "at", "time", "timestamp", "ts", "date", "datetime", "changed", "updated", "created", "modified", "rotated",
  "expires", "expiry", "expiration", "expired", "ttl", "age", "since", "until", "path", "file", "filename",
  "dir", "directory", "folder", "sock", "socket", "count", "len", "length", "size", "type", "kind", "name",
  "names", "version", "algorithm", "alg", "algo", "method", "scheme", "format", "enabled", "disabled",
  "required", "present", "valid", "ok", "status", "state", "source", "env", "var", "label", "ref", "rate",
  "ratio", "mode", "policy", "strength", "field", "fields", "error", "errors", "reason", "attempts", "retries",
  "failures", "hint",
})

local function key_words(key)
  local spaced = key:gsub("(%u+)(%u%l)", "%1 %2"):gsub("(%l)(%u)", "%1 %2"):gsub("(%a)(%d)", "%1 %2")
  spaced = spaced:gsub("(%d)(%a)", "%1 %2")
  local words = {}
  for word in spaced:lower():gmatch("%w+") do
    words[#words + 1] = word
  end
  return words
end

-- "secret", "asset" (an asset symbol stays, anything else is masked), or nil.
local function key_kind(key)
  if type(key) ~= "string" then
    return nil
  end
  local k = key:lower():gsub("[%-_ %.]", "")
  local words = key_words(key)
  local last = words[#words]
  if #words > 1 and METADATA_WORDS[last] then
    return nil
  end
  if SECRET_EXACT[k] then
    return "secret"
  end
  for _, word in ipairs(words) do
    if SECRET_WORDS[word] then
      return "secret"
    end
  end
  for _, part in ipairs(SECRET_CONTAINS) do
    if k:find(part, 1, true) then
      return "secret"
    end
  end
  for _, suffix in ipairs(SECRET_SUFFIXES) do
    if #k >= #suffix and k:sub(-#suffix) == suffix then
      return "secret"
    end
  end
  if #k >= 5 and k:sub(-5) == "token" then
    return ASSET_TOKEN_QUALIFIERS[k:sub(1, -6)] and "asset" or "secret"
  end
  if #words > 1 and last == "key" and KEY_OWNERS[words[#words - 1]] then
    return "secret"
  end
  if #words > 1 and (last == "url" or last == "uri") and (k:find("webhook", 1, true) or words[#words - 1] == "hook") then
    return "secret"
  end
  return nil
end

-- ETH, 1INCH, stETH, USDC.e, BTC/USDT:USDT, ETH-PERP, or a 0x contract address.
local function looks_like_asset(value)
  if value:match("^0x%x+$") then
    return #value == 42
  end
  local parts = 0
  for part in (value .. "/"):gmatch("([^/:%-]*)[/:%-]") do
    parts = parts + 1
    if parts > 4 or #part > 15 or not (part:match("^%d?%d?%d?%a[%a%.]*$") or part:match("^%d%d%d%d+$")) then
      return false
    end
  end
  return parts > 0
end

-- Whether the value under this key must be masked.
local function masks(key, value)
  local kind = key_kind(key)
  if kind == "asset" and type(value) == "string" and looks_like_asset(value) then
    return false
  end
  return kind ~= nil
end

-- Mask every PEM private key block; one without its END line is masked to the end of the text.
local function mask_pem(text)
  local parts, done = {}, 1
  while true do
    local first, last, label = text:find("%-%-%-%-%-BEGIN ([%u ]*)PRIVATE KEY%-%-%-%-%-", done)
    if first == nil then
      break
    end
    local head = "-----BEGIN " .. label .. "PRIVATE KEY-----" .. MASK
    local _, stop = text:find("%-%-%-%-%-END [%u ]*PRIVATE KEY%-%-%-%-%-", last + 1)
    parts[#parts + 1] = text:sub(done, first - 1)
    if stop == nil then
      parts[#parts + 1] = head
      done = #text + 1
      break
    end
    parts[#parts + 1] = head .. "-----END " .. label .. "PRIVATE KEY-----"
    done = stop + 1
  end
  if done == 1 then
    return text
  end
  parts[#parts + 1] = text:sub(done)
  return table.concat(parts)
end

-- A Telegram bot token is <bot id>:<35 url-safe characters>; ids have at least 5 digits.
-- Found from its colon and the digits right before it, so text such as "id 5:<token>" (where a
-- left-to-right digits-colon pattern would first consume "5:<bot id>") is masked too.
local function mask_bot_tokens(text)
  local parts, done, at = {}, 1, 1
  while true do
    local colon, last = text:find(":[%w_%-]+", at)
    if colon == nil then
      break
    end
    local first = colon
    while first > 1 do
      local byte = text:byte(first - 1)
      if byte < 48 or byte > 57 then
        break
      end
      first = first - 1
    end
    if colon - first >= 5 and last - colon >= 30 then
      parts[#parts + 1] = text:sub(done, first - 1)
      parts[#parts + 1] = MASK
      done = last + 1
    end
    at = last + 1
  end
  if done == 1 then
    return text
  end
  parts[#parts + 1] = text:sub(done)
  return table.concat(parts)
end

local AUTH_SCHEMES = { bearer = true, basic = true, digest = true }

-- "word" as a case-insensitive Lua pattern: "ab" -> "[aA][bB]".
local function anycase(word)
  return (word:gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end))
end

local function mask_pair(key, sep, value)
  if AUTH_SCHEMES[value:lower()] then
    return nil  -- "Authorization: Bearer ***": the scheme word stays, its credential is masked below
  end
  if value ~= MASK and masks(key, value) then
    return key .. sep .. MASK
  end
  return nil
end

-- Return text with every secret shape masked.
local function scrub(text)
  local out = text
  if out:find("-----BEGIN", 1, true) then
    out = mask_pem(out)
  end
  out = mask_bot_tokens(out)
  for scheme in pairs(AUTH_SCHEMES) do
    out = out:gsub("(" .. anycase(scheme) .. "%s+)[%w%-%._~%+/]+=*", "%1" .. MASK)
  end
  out = out:gsub("(://)[^/%s:@]+:[^/%s@]+@", "%1" .. MASK .. "@")
  -- keys only at a word start (%f), so a long word without "=" is read once, not once per letter
  out = out:gsub("%f[%w_%-%.]([%w_%-%.]+)(=)([^&%s\"',;]+)", mask_pair)
  out = out:gsub("%f[%w_%-]([%w_%-]+)(:%s*)([^%s,;\"']+)", mask_pair)
  return out
end

-- Redact a string, cut to MAX_CHARS (on a UTF-8 character boundary) with a marker saying how much went.
local function scrub_bounded(text)
  if #text <= MAX_CHARS then
    return scrub(text)
  end
  local head = text:sub(1, MAX_CHARS + LOOKAHEAD)
  local clean = scrub(head)
  if #head == #text and #clean <= MAX_CHARS then
    return clean
  end
  local keep = MAX_CHARS - 40
  local byte = clean:byte(keep + 1)
  while keep > 0 and byte ~= nil and byte >= 128 and byte < 192 do
    keep = keep - 1
    byte = clean:byte(keep + 1)
  end
  local dropped = (#text - #head) + (#clean - keep)
  return clean:sub(1, keep) .. "\226\128\166[truncated " .. dropped .. " chars]"
end

-- The text without its trailing line breaks (read backwards: a pattern would retry every position).
local function chomp(text)
  local last = #text
  while last > 0 do
    local byte = text:byte(last)
    if byte ~= 10 and byte ~= 13 then
      break
    end
    last = last - 1
  end
  return text:sub(1, last)
end

-- Mask in place; return true when something changed.
local function redact(tbl, depth)
  if depth > MAX_DEPTH then
    return false
  end
  local changed = false
  for key, value in pairs(tbl) do
    local kind = type(value)
    if kind ~= "table" and value ~= MASK and masks(key, value) then
      tbl[key] = MASK
      changed = true
    elseif kind == "string" then
      local clean = scrub_bounded(value)
      if clean ~= value then
        tbl[key] = clean
        changed = true
      end
    elseif kind == "table" then
      if key_kind(key) ~= nil then
        tbl[key] = MASK
        changed = true
      elseif redact(value, depth + 1) then
        changed = true
      end
    end
  end
  return changed
end

local function rfc3339(timestamp)
  local seconds = math.floor(timestamp)
  local millis = math.floor((timestamp - seconds) * 1000 + 0.5)
  if millis >= 1000 then
    seconds, millis = seconds + 1, 0
  end
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds) .. string.format(".%03dZ", millis)
end

function sanitize(tag, timestamp, record)
  local changed = false
  if record.message == nil and type(record.log) == "string" then
    record.message = chomp(record.log)
    record.log = nil
    record.level = record.level or "WARNING"
    record.context = { unparsed = true }
    changed = true
  end
  if type(record.service) ~= "string" then
    record.service = tag:match("^logs%.([^%.]+)$") or tag
    changed = true
  end
  if type(record.timestamp) ~= "string" then
    record.timestamp = rfc3339(tonumber(timestamp) or os.time())
    changed = true
  end
  if type(record.level) == "string" then
    local level = LEVELS[record.level:lower()]
    if level == nil then
      level = "INFO"
    end
    if level ~= record.level then
      record.level = level
      changed = true
    end
  else
    record.level = "INFO"
    changed = true
  end
  if redact(record, 0) then
    changed = true
  end
  if changed then
    return 2, timestamp, record
  end
  return 0, timestamp, record
end
