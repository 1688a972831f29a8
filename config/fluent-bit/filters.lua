-- Fluent Bit Lua filter for the crypto-assistant service logs (LuaJIT 2.1, Lua 5.1 syntax).
--
-- sanitize(tag, timestamp, record) runs on every record after the app_json parser, before routing:
--   1. a line that was not JSON ({"log": "..."}) becomes a record with message, level WARNING
--      and context.unparsed = true, so it still reaches the central store and can be found;
--   2. service and timestamp are filled in when missing (from the tag "logs.<service>" and the
--      record time), because the routing rules read them;
--   3. level is normalised to DEBUG | INFO | WARNING | ERROR | CRITICAL (warn, err, fatal, ...);
--   4. secrets are masked as "***", a second line of defence behind services.shared.redaction:
--      values under secret-looking keys (password, api_key, X-MBX-APIKEY, *token, signature, ...),
--      Telegram bot tokens anywhere in a string ("/bot123:AA...", "123456:AA..."), Bearer/Basic/Digest
--      credentials,
--      secret query parameters (?apiKey=..&signature=..), URL credentials and PEM private keys.
-- Fluent Bit's contract: return -1 to drop, 0 to keep unchanged, 2 when only the record changed.

local MASK = "***"
local MAX_DEPTH = 12

local LEVELS = {
  trace = "DEBUG", debug = "DEBUG",
  info = "INFO", information = "INFO", notice = "INFO",
  warn = "WARNING", warning = "WARNING",
  err = "ERROR", error = "ERROR",
  crit = "CRITICAL", critical = "CRITICAL", fatal = "CRITICAL", alert = "CRITICAL",
  emerg = "CRITICAL", panic = "CRITICAL",
}

-- Key rules, as services/shared/_redaction_patterns.py: lowercase, drop "-", "_", " " and ".".
local SECRET_EXACT = {
  sign = true, auth = true, pwd = true, pass = true, jwt = true, otp = true, sessionid = true,
  session = true, setcookie = true, cookie = true, cookies = true, dsn = true,
}
local SECRET_CONTAINS = {
  "password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey", "privkey",
  "signature", "authorization", "credential", "mnemonic", "seedphrase",
}
local SECRET_SUFFIXES = { "token", "apisign", "accesssign", "cookie" }

local function is_secret_key(key)
  if type(key) ~= "string" then
    return false
  end
  local k = key:lower():gsub("[%-_ %.]", "")
  if SECRET_EXACT[k] then
    return true
  end
  for _, part in ipairs(SECRET_CONTAINS) do
    if k:find(part, 1, true) then
      return true
    end
  end
  for _, suffix in ipairs(SECRET_SUFFIXES) do
    if #k >= #suffix and k:sub(-#suffix) == suffix then
      return true
    end
  end
  return false
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
  if is_secret_key(key) and value ~= MASK then
    return key .. sep .. MASK
  end
  return nil
end

-- Return text with every secret shape masked.
local function scrub(text)
  local out = text
  out = out:gsub("%-%-%-%-%-BEGIN ([%u ]*)PRIVATE KEY%-%-%-%-%-.-%-%-%-%-%-END [%u ]*PRIVATE KEY%-%-%-%-%-",
                 "-----BEGIN %1PRIVATE KEY-----" .. MASK .. "-----END %1PRIVATE KEY-----")
  out = mask_bot_tokens(out)
  for scheme in pairs(AUTH_SCHEMES) do
    out = out:gsub("(" .. anycase(scheme) .. "%s+)[%w%-%._~%+/]+=*", "%1" .. MASK)
  end
  out = out:gsub("(://)[^/%s:@]+:[^/%s@]+@", "%1" .. MASK .. "@")
  out = out:gsub("([%w_%-%.]+)(=)([^&%s\"',;]+)", mask_pair)
  out = out:gsub("([%w_%-]+)(:%s*)([^%s,;\"']+)", mask_pair)
  return out
end

-- Mask in place; return true when something changed.
local function redact(tbl, depth)
  if depth > MAX_DEPTH then
    return false
  end
  local changed = false
  for key, value in pairs(tbl) do
    local kind = type(value)
    if is_secret_key(key) and kind ~= "table" and value ~= MASK then
      tbl[key] = MASK
      changed = true
    elseif kind == "string" then
      local clean = scrub(value)
      if clean ~= value then
        tbl[key] = clean
        changed = true
      end
    elseif kind == "table" then
      if is_secret_key(key) then
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
    record.message = (record.log:gsub("[\r\n]+$", ""))
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
