"""The secret shapes redaction looks for: key-name rules, one combined value regex, a cheap pre-check.

Kept apart from the Redactor so the rules can be read (and extended) in one place; the
Redactor only walks structures and calls these.
"""

from __future__ import annotations

import re
from typing import Final

MASK: Final = "***"

# Kinds of a context key, decided once per distinct key and cached by the Redactor.
PLAIN: Final = 0
QUERY_KEY: Final = 1  # "key": plain in a dict (a cache key), a secret as ?key=... in a query string
SECRET: Final = 2
USER: Final = 3
IDENTITY_HOLDER: Final = 4  # "from", "chat": a dict whose "id" is a person (Telegram objects)
ASSET_OR_SECRET: Final = 5  # "token", "base_token": an asset symbol ("ETH") stays, anything else is masked
PAIR_VALUE: Final = 6  # "value" beside "name"/"Key" (HAR headers, k8s env, AWS tags): as secret as that name

# Names are compared after lowercasing and dropping "-", "_", " " and ".":
# "X-MBX-APIKEY", "x_mbx_apikey" and "X.MBX.ApiKey" are all "xmbxapikey".
_DROP_SEPARATORS: Final = str.maketrans("", "", "-_ .")
# Words of a name: "dbPass" -> db, pass; "X-MBX-APIKEY" -> x, mbx, apikey; "XAuth" -> x, auth.
_WORD_RE: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

SECRET_EXACT: Final = frozenset({"session", "sessionid", "setcookie", "webhook", "webhookurl"})
# A whole word of the name: db_pass, DB_PASS, x-auth, wallet_seed, hmac, sig, pk, sk, private.
SECRET_WORDS: Final = frozenset(
    {"pass", "pwd", "pw", "passwd", "password", "passphrase", "secret", "secrets", "seed", "pk", "sk", "private",
     "hmac", "sig", "sign", "auth", "otp", "jwt", "dsn", "cookie", "cookies", "creds", "credential", "credentials",
     "mnemonic", "privkey", "apikey"}
)  # fmt: skip
SECRET_CONTAINS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "accesskey",  # OK-ACCESS-KEY, CB-ACCESS-KEY, aws_access_key_id
    "privatekey",
    "privkey",
    "signature",
    "authorization",
    "credential",
    "mnemonic",
    "seedphrase",
)
SECRET_SUFFIXES: Final = (
    "apisign",  # X-BAPI-SIGN, KC-API-SIGN, API-Sign (Kraken)
    "accesssign",  # OK-ACCESS-SIGN, CB-ACCESS-SIGN
    "cookie",
)
# "<owner>_key" names a secret key; any other "<x>_key" (cache_key, sort_key) is ordinary.
KEY_OWNERS: Final = frozenset(
    {"signing", "encryption", "encrypt", "decryption", "master", "client", "consumer", "app", "ssh", "gpg", "pgp",
     "wallet", "license", "shared", "session", "access", "api", "bot", "account"}
)  # fmt: skip
# "<qualifier>token" names an asset in a crypto service (token="ETH", base_token, quote_token):
# decided by the value's shape. Any other "...token" (access_token, bot_token, X-Auth-Token) is a secret.
ASSET_TOKEN_QUALIFIERS: Final = frozenset(
    {"", "base", "quote", "from", "to", "in", "out", "input", "output", "src", "source", "dst", "dest", "target",
     "fee", "gas", "reward", "native", "stake", "staked", "wrapped", "pay", "buy", "sell", "collateral", "debt",
     "borrow", "lend", "deposit", "withdraw", "settle", "settlement", "margin", "underlying", "payment", "asset",
     "quoted", "counter", "primary", "secondary"}
)  # fmt: skip
# A name whose last word says it describes a secret rather than holds one: password_changed_at (a time),
# credentials_path (a path), secret_name, signature_valid, token_count, auth_method, SSH_AUTH_SOCK.
METADATA_WORDS: Final = frozenset(
    {"at", "time", "timestamp", "ts", "date", "datetime", "changed", "updated", "created", "modified", "rotated",
     "expires", "expiry", "expiration", "expired", "ttl", "age", "since", "until", "path", "file", "filename",
     "dir", "directory", "folder", "sock", "socket", "count", "len", "length", "size", "type", "kind", "name",
     "names", "version", "algorithm", "alg", "algo", "method", "scheme", "format", "enabled", "disabled",
     "required", "present", "valid", "ok", "status", "state", "source", "env", "var", "label", "ref", "rate",
     "ratio", "mode", "policy", "strength", "field", "fields", "error", "errors", "reason", "attempts", "retries",
     "failures", "hint"}
)  # fmt: skip
USER_EXACT: Final = frozenset(
    {
        "user",
        "userid",
        "username",
        "chatid",
        "fromid",
        "phone",
        "phonenumber",
        "email",
        "emailaddress",
        "telegramid",
        "telegramuserid",
        "tguserid",
        "effectiveuserid",
        "effectivechatid",
        "firstname",
        "lastname",
        "fullname",
    }
)
IDENTITY_HOLDERS: Final = frozenset({"from", "chat", "sender", "effectiveuser", "effectivechat", "fromuser"})
PAIR_NAME_KEYS: Final = ("name", "Name", "NAME", "key", "Key", "KEY")  # the name beside a PAIR_VALUE


def normalise_key(key: str) -> str:
    """Fold case and separators so every spelling of a key name compares equal."""
    return key.lower().translate(_DROP_SEPARATORS)


def classify_key(key: str, extra_secret: frozenset[str] = frozenset()) -> int:
    """Say whether a key names a secret, a person, a holder of a person, or nothing special."""
    norm = normalise_key(key)
    if norm in USER_EXACT:
        return USER
    if norm in extra_secret:
        return SECRET
    words = [word.lower() for word in _WORD_RE.findall(key)]
    if len(words) > 1 and words[-1] in METADATA_WORDS:
        return PLAIN
    if (norm in SECRET_EXACT or not SECRET_WORDS.isdisjoint(words) or norm.endswith(SECRET_SUFFIXES)
            or any(part in norm for part in SECRET_CONTAINS)):
        return SECRET
    if norm.endswith("token"):
        return ASSET_OR_SECRET if norm[:-5] in ASSET_TOKEN_QUALIFIERS else SECRET
    if len(words) > 1 and words[-1] == "key" and words[-2] in KEY_OWNERS:
        return SECRET
    if len(words) > 1 and words[-1] in ("url", "uri") and ("webhook" in norm or words[-2] == "hook"):
        return SECRET
    if norm in IDENTITY_HOLDERS:
        return IDENTITY_HOLDER
    if norm == "value":
        return PAIR_VALUE
    return QUERY_KEY if norm == "key" else PLAIN


# An asset, not a secret: ETH, USDT, 1INCH, stETH, USDC.e, BTC/USDT:USDT, BTC-USDT-SWAP, a 0x contract address.
_ASSET = r"\d{0,3}[A-Za-z][A-Za-z.]{0,11}"
ASSET_RE: Final = re.compile(
    rf"{_ASSET}(?:[/-]{_ASSET}){{0,2}}(?::{_ASSET})?(?:-\d{{4,8}})?|0x[0-9a-fA-F]{{40}}"
)
_PATH_LIKE: Final = re.compile(r"(?:~|\.{1,2})?/[^\s]*")


def looks_like_secret(value: str) -> bool:
    """A value whose shape is a credential's: 16+ characters of one word, mixed case and digits, or long hex."""
    if not 16 <= len(value) <= 4096 or _PATH_LIKE.fullmatch(value) or not value.isascii():
        return False
    if any(ch.isspace() or ch in ":@\"'" for ch in value):
        return False
    has_digit = any(ch.isdigit() for ch in value)
    if any(ch.isupper() for ch in value) and any(ch.islower() for ch in value) and has_digit:
        return True
    return has_digit and len(value) >= 32 and all(ch in "0123456789abcdefABCDEF" for ch in value)


# The value regex is one alternation of branches. Each branch opens with a literal or a
# character class, then an empty named group that only labels the branch (``m.lastgroup``):
# sre rejects a branch on its first character without entering it, which is where the speed
# comes from. The branches that start a word share one guard, so a word is tried once.
# Each branch declares the trigger substrings it cannot match without (see ``trigger_mask``);
# a text is scanned with the alternation of only the branches its triggers allow, compiled
# once per combination. Leftmost-first matching gives the same result as the full alternation,
# because a left-out branch could not have matched anywhere in that text.
T_COLON, T_EQUALS, T_AT, T_PLUS, T_JWT, T_BEARER, T_AWS, T_PEM, T_PAIR, T_TUPLE, T_LINK, T_CURL = (
    1 << i for i in range(12)
)
ALL_TRIGGERS: Final = (1 << 12) - 1

_VALUE = (
    r"""(?:\\"[^"]*?\\"|\\'[^']*?\\'|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
    r"""|(?:(?i:bearer|basic|bot|token)[ \t]+)?(?:[^\s&,;'"{}\[\]<>:]|:(?!\s))++(?!:\s))"""
)
_W = r"[A-Za-z0-9._%+-]"
# What may follow an AWS key id before its secret key: a few separators and words ("', '", " / ", " secret ").
_AWS_SECRET_AFTER = (
    r"[^A-Za-z0-9+_\n]{1,6}(?:[A-Za-z_]{1,30}[^A-Za-z0-9+_\n]{1,6}){0,2}[A-Za-z0-9+][A-Za-z0-9/+]{39}(?![A-Za-z0-9/+=])"
)
# (pattern, triggers all needed, triggers of which one is needed); order is precedence.
_BRANCHES: Final = (
    (
        r"-(?P<pem>)----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
        T_PEM,
        0,
    ),
    (r"/(?P<botpath>)bot\d{6,10}:[A-Za-z0-9_-]+", T_COLON, 0),
    # At a word start only, so a long run of "eyJeyJ..." is read once, not once per "eyJ".
    (r"(?<![A-Za-z0-9_-])e(?P<jwt>)yJ[A-Za-z0-9_-]{2,}+\.[A-Za-z0-9_-]{2,}+\.[A-Za-z0-9_-]*+", T_JWT, 0),
    # An AWS key id, and the 40-character secret key when it follows within a few words.
    (r"A(?P<aws>)(?:KIA|SIA)[0-9A-Z]{16}(?:" + _AWS_SECRET_AFTER + ")?", T_AWS, 0),
    # Digits and separators only; whether it is a phone number is decided on its digits and context.
    (r"\+(?P<phone>)(?<![\w+]\+)\d++(?:[ -]?\(?\d++\)?){0,6}+(?![\w%]|\.\d)", T_PLUS, 0),
    # A Telegram object in JSON or repr text: {"from": {"id": 555, ...}} -> the person's hash.
    (
        r"[\"'](?P<tgid>)(?:from|chat|sender_chat|user|effective_user|effective_chat)[\"'][ \t]*:[ \t]*"
        r"\{[ \t]*[\"']id[\"'][ \t]*:[ \t]*-?\d+",
        T_COLON,
        0,
    ),
    # A name/value pair (HAR headers, k8s env, AWS tags): {"name": "X-MBX-APIKEY", "value": "..."};
    # the Redactor reads the name and masks the value when the name is secret.
    (
        r"\\?[\"'](?P<pair>)(?:name|Name|NAME|key|Key|KEY)\\?[\"'][ \t]{0,3}[:=][ \t]{0,3}"
        r"\\?[\"'][A-Za-z][\w .-]{0,63}?\\?[\"'][ \t]{0,3},[ \t]{0,3}"
        r"\\?[\"'](?:value|Value|VALUE)\\?[\"'][ \t]{0,3}[:=][ \t]{0,3}",
        T_PAIR,
        T_COLON | T_EQUALS,
    ),
    # A (name, value) tuple: [('X-MBX-APIKEY', '...')], (b'authorization', b'...').
    (r"[(\[](?P<tuple>)[ \t]{0,3}b?[\"'][A-Za-z][\w .-]{0,63}?[\"'][ \t]{0,3},[ \t]{0,3}(?:b(?=[\"']))?", T_TUPLE, 0),
    # key=value: the branches match the key and separator only; the Redactor matches the value
    # (VALUE_RE) only when the key is secret or personal, so ordinary pairs cost O(key).
    # Quoted key: 'X-MBX-APIKEY': '...', "password": "...", \"token\": \"...\"
    (r"\\(?P<kve>)[\"'][A-Za-z][\w .-]{0,63}?\\[\"'][ \t]{0,3}[:=][ \t]{0,3}", 0, T_COLON | T_EQUALS),
    (r"[\"'](?P<kvq>)[A-Za-z][\w .-]{0,63}?[\"'][ \t]{0,3}[:=][ \t]{0,3}", 0, T_COLON | T_EQUALS),
    # Word-start family: these match with the one character before the word (see _WORD_GUARD).
    # A URL whose path may be the credential (webhooks, reset links): scheme and host here, the
    # path is read by the Redactor (LINK_PATH_RE). Before "url", which it leaves to URLs with "@".
    (r"[A-Za-z][A-Za-z0-9+.-]{0,19}+://(?P<link>)[^\s/?#'\"<>@]{1,255}+(?=/)", T_LINK | T_COLON, 0),
    # scheme://user:pass@ (a password may hold "/" or "@" unencoded) or scheme://token@;
    # not host:port/path@ (wss://stream.binance.com:9443/ws/btcusdt@trade is a stream, not a login).
    (
        r"[A-Za-z][A-Za-z0-9+.-]{0,19}+://(?P<url>)"
        r"(?:[^\s/?#@'\"<>:]{0,255}+:(?!\d{1,5}(?:[/?#\s]|$))[^\s?#'\"<>@]{0,255}+(?:@[^\s/?#'\"<>@]{0,255}+)*"
        r"|[^\s/?#'\"<>]{0,255}+)@",
        T_COLON | T_AT,
        0,
    ),
    (r"[Bb](?:earer|EARER)(?P<bearer>)[ \t]+[A-Za-z0-9\-._~+/=]++(?![ \t]*:)", T_BEARER, 0),
    # curl -u user:pass, --user user:pass, --user=user:pass
    (
        r"-(?P<curl>)(?:u|-user)(?:[ \t]+|=)(?:'[^'\n:]{0,128}:[^'\n]{0,256}'|\"[^\"\n:]{0,128}:[^\"\n]{0,256}\""
        r"|[^\s'\":]{0,128}+:[^\s'\"]{0,256}+)",
        T_CURL | T_COLON,
        0,
    ),
    (
        r"[A-Za-z][\w.-]{0,63}+(?P<kvs>)(?:[ \t]{0,3}=[ \t]{0,3}|:[ \t]{1,3}|:(?=[\"']))"
        r"(?P<kv>)",
        0,
        T_COLON | T_EQUALS,
    ),
    (_W + r"{1,64}+@(?P<email>)(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b(?!@)", T_AT, 0),
    # A bare bot token; last so a key=value around it is seen first.
    (r"\d(?P<bot>)\d{5,9}:[A-Za-z0-9_-]{30,}", T_COLON, 0),
)
WORD_START: Final = frozenset({"link", "url", "bearer", "curl", "kv", "email"})
# The family's first op consumes the character before the word: sre rejects it on that one
# character at every position inside a word, far cheaper than a lookbehind there. The scanner
# pads the text with a leading space so a word at the very start has such a character too.
_WORD_GUARD: Final = r"[^A-Za-z0-9._%+-]"


def _label(pattern: str) -> str:
    return pattern.rsplit("(?P<", 1)[1].split(">", 1)[0]


def build_secret_re(mask: int) -> re.Pattern[str]:
    """Compile the alternation of the branches a text with these triggers could match."""
    plain: list[str] = []
    word: list[str] = []
    for pattern, needs_all, needs_any in _BRANCHES:
        if (mask & needs_all) != needs_all or (needs_any and not mask & needs_any):
            continue
        if _label(pattern) in WORD_START:
            if not word:
                plain.append("")  # placeholder: the word family keeps its place in the order
            word.append(pattern)
        else:
            plain.append(pattern)
    parts = [p if p else _WORD_GUARD + "(?:" + "|".join(word) + ")" for p in plain]
    return re.compile("|".join(parts) if parts else r"(?!)")


SECRET_RE: Final = build_secret_re(ALL_TRIGGERS)
# The "url" branch alone, for a URL the "link" branch took first but found no credential path in.
URL_LOGIN_RE: Final = re.compile(_WORD_GUARD + "(?:" + next(p for p, _, _ in _BRANCHES if _label(p) == "url") + ")")
# A value: quoted (also \"escaped\" inside a JSON string), or unquoted up to a delimiter, with
# an auth scheme word kept with it; not a bare word followed by ": " (that is the next key).
VALUE_RE: Final = re.compile(_VALUE)
KV_HEAD_RE: Final = re.compile(r"""(\\?["']?)([A-Za-z][\w .-]{0,63}?)\\?["']?[ \t]{0,3}[:=][ \t]{0,3}""")
AUTH_SCHEME_RE: Final = re.compile(r"(?i)(bearer|basic|bot|token)[ \t]+")
MASKED_USER_RE: Final = re.compile(r"u_[0-9a-f]{16}")
PEM_LABEL_RE: Final = re.compile(r"-----BEGIN([A-Z ]*PRIVATE KEY(?: BLOCK)?)-----")
PAIR_NAME_RE: Final = re.compile(
    r"""\\?["'][A-Za-z]{3,4}\\?["'][ \t]{0,3}[:=][ \t]{0,3}\\?["']([A-Za-z][\w .-]{0,63}?)\\?["']"""
)
TUPLE_NAME_RE: Final = re.compile(r"""[(\[][ \t]{0,3}b?["']([A-Za-z][\w .-]{0,63}?)["']""")
AWS_KEY_ID_RE: Final = re.compile(r"A(?:KIA|SIA)[0-9A-Z]{16}")
AWS_SECRET_AFTER_RE: Final = re.compile(_AWS_SECRET_AFTER)
CURL_HEAD_RE: Final = re.compile(r"-(?:u|-user)(?:[ \t]+|=)")
# The path after a URL's host: segments up to a query, fragment, quote or space (bounded, possessive).
LINK_PATH_RE: Final = re.compile(r"""(?:/[^\s/?#'"<>]{0,255}+){1,32}+""")
# A path segment (lowercase, "-" and "_" dropped) after which the rest of the path is the credential.
CREDENTIAL_SEGMENTS: Final = frozenset(
    {"hooks", "hook", "webhook", "webhooks", "webhookb2", "reset", "resetpassword", "passwordreset", "forgotpassword",
     "verify", "verifyemail", "verification", "confirm", "confirmemail", "confirmation", "activate", "activation",
     "magic", "magiclink", "loginlink", "invite", "invitation"}
)  # fmt: skip
# A host label that makes the whole path the credential: hooks.slack.com, contoso.webhook.office.com.
CREDENTIAL_HOST_LABELS: Final = frozenset({"hooks", "hook", "webhook", "webhooks"})
_LINK_WORDS: Final = ("hook", "Hook", "HOOK", "eset", "erif", "onfirm", "ctivat", "agic", "nvit")
# A word before a "+digits" that makes it an amount, not a phone number: "balance delta +150000000".
AMOUNT_WORDS: Final = frozenset(
    {"delta", "change", "changed", "diff", "pnl", "balance", "amount", "qty", "quantity", "volume", "size", "total",
     "gain", "profit", "loss", "fee", "fees", "value", "price", "by", "of", "increase", "decrease", "net", "sum"}
)  # fmt: skip
_LAST_WORD_RE: Final = re.compile(r"([A-Za-z_]{1,24})[ \t:=]{0,3}$")


def amount_before(text: str, at: int) -> bool:
    """Tell whether the word just before position ``at`` says a signed number there is an amount."""
    word = _LAST_WORD_RE.search(text, max(0, at - 28), at)
    return word is not None and word.group(1).lower() in AMOUNT_WORDS


def trigger_mask(text: str) -> int:
    """Say which trigger substrings a text holds; 0 means no secret shape can be in it."""
    mask = 0
    if ":" in text:
        mask = T_COLON
        if "://" in text and any(word in text for word in _LINK_WORDS):
            mask |= T_LINK
        if "-u" in text:
            mask |= T_CURL
    if "=" in text:
        mask |= T_EQUALS
    if "@" in text:
        mask |= T_AT
    if "+" in text:
        mask |= T_PLUS
    if "eyJ" in text:
        mask |= T_JWT
    if "earer" in text or "EARER" in text:
        mask |= T_BEARER
    if "AKIA" in text or "ASIA" in text:
        mask |= T_AWS
    if "-----BEGIN" in text:
        mask |= T_PEM
    if mask & (T_COLON | T_EQUALS) and ("alue" in text or "ALUE" in text):
        mask |= T_PAIR
    if "," in text and ("'" in text or '"' in text) and ("(" in text or "[" in text):
        mask |= T_TUPLE
    return mask
