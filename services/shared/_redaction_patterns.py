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

# Names are compared after lowercasing and dropping "-", "_", " " and ".":
# "X-MBX-APIKEY", "x_mbx_apikey" and "X.MBX.ApiKey" are all "xmbxapikey".
_DROP_SEPARATORS: Final = str.maketrans("", "", "-_ .")

SECRET_EXACT: Final = frozenset(
    {
        "sign",  # Huobi, Gate.io, Kucoin query/body field
        "auth",
        "pwd",
        "pass",
        "jwt",
        "otp",
        "sessionid",
        "session",
        "setcookie",
        "cookie",
        "cookies",
        "dsn",
    }
)
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
    "token",  # token, access_token, refresh_token, bot_token, X-Auth-Token, id_token
    "apisign",  # X-BAPI-SIGN, KC-API-SIGN, API-Sign (Kraken)
    "accesssign",  # OK-ACCESS-SIGN, CB-ACCESS-SIGN
    "cookie",
)
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


def normalise_key(key: str) -> str:
    """Fold case and separators so every spelling of a key name compares equal."""
    return key.lower().translate(_DROP_SEPARATORS)


def classify_key(key: str, extra_secret: frozenset[str] = frozenset()) -> int:
    """Say whether a key names a secret, a person, a holder of a person, or nothing special."""
    norm = normalise_key(key)
    if norm in USER_EXACT:
        return USER
    if norm in SECRET_EXACT or norm in extra_secret:
        return SECRET
    if norm.endswith(SECRET_SUFFIXES) or any(part in norm for part in SECRET_CONTAINS):
        return SECRET
    if norm in IDENTITY_HOLDERS:
        return IDENTITY_HOLDER
    return QUERY_KEY if norm == "key" else PLAIN


# The value regex is one alternation of branches. Each branch opens with a literal or a
# character class, then an empty named group that only labels the branch (``m.lastgroup``):
# sre rejects a branch on its first character without entering it, which is where the speed
# comes from. The branches that start a word share one guard, so a word is tried once.
# Each branch declares the trigger substrings it cannot match without (see ``trigger_mask``);
# a text is scanned with the alternation of only the branches its triggers allow, compiled
# once per combination. Leftmost-first matching gives the same result as the full alternation,
# because a left-out branch could not have matched anywhere in that text.
T_COLON, T_EQUALS, T_AT, T_PLUS, T_JWT, T_BEARER, T_AWS, T_PEM = (1 << i for i in range(8))
ALL_TRIGGERS: Final = (1 << 8) - 1

_VALUE = (
    r"""(?:\\"[^"]*?\\"|\\'[^']*?\\'|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
    r"""|(?:(?i:bearer|basic|bot|token)[ \t]+)?(?:[^\s&,;'"{}\[\]<>:]|:(?!\s))++(?!:\s))"""
)
_W = r"[A-Za-z0-9._%+-]"
# (pattern, triggers all needed, triggers of which one is needed); order is precedence.
_BRANCHES: Final = (
    (
        r"-(?P<pem>)----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
        T_PEM,
        0,
    ),
    (r"/(?P<botpath>)bot\d{6,10}:[A-Za-z0-9_-]+", T_COLON, 0),
    (r"e(?P<jwt>)yJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*", T_JWT, 0),
    (r"A(?P<aws>)(?:KIA|SIA)[0-9A-Z]{16}", T_AWS, 0),
    (r"\+(?P<phone>)(?<![\w+]\+)\d{1,3}(?:[ -]?\(?\d{1,4}\)?){1,2}(?:[ -]?\d{2,4}){1,4}(?![\w%]|\.\d)", T_PLUS, 0),
    # A Telegram object in JSON or repr text: {"from": {"id": 555, ...}} -> the person's hash.
    (
        r"[\"'](?P<tgid>)(?:from|chat|sender_chat|user|effective_user|effective_chat)[\"'][ \t]*:[ \t]*"
        r"\{[ \t]*[\"']id[\"'][ \t]*:[ \t]*-?\d+",
        T_COLON,
        0,
    ),
    # key=value: the branches match the key and separator only; the Redactor matches the value
    # (VALUE_RE) only when the key is secret or personal, so ordinary pairs cost O(key).
    # Quoted key: 'X-MBX-APIKEY': '...', "password": "...", \"token\": \"...\"
    (r"\\(?P<kve>)[\"'][A-Za-z][\w .-]{0,63}?\\[\"'][ \t]{0,3}[:=][ \t]{0,3}", 0, T_COLON | T_EQUALS),
    (r"[\"'](?P<kvq>)[A-Za-z][\w .-]{0,63}?[\"'][ \t]{0,3}[:=][ \t]{0,3}", 0, T_COLON | T_EQUALS),
    # Word-start family: these match with the one character before the word (see _WORD_GUARD).
    # scheme://user:pass@ (a password may hold "/" or "@" unencoded) or scheme://token@
    (
        r"[A-Za-z][A-Za-z0-9+.-]{0,19}+://(?P<url>)"
        r"(?:[^\s/?#@'\"<>:]*:[^\s?#'\"<>@]*(?:@[^\s/?#'\"<>@]*)*|[^\s/?#'\"<>]*)@",
        T_COLON | T_AT,
        0,
    ),
    (r"[Bb](?:earer|EARER)(?P<bearer>)[ \t]+[A-Za-z0-9\-._~+/=]++(?![ \t]*:)", T_BEARER, 0),
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
WORD_START: Final = frozenset({"url", "bearer", "kv", "email"})
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
# A value: quoted (also \"escaped\" inside a JSON string), or unquoted up to a delimiter, with
# an auth scheme word kept with it; not a bare word followed by ": " (that is the next key).
VALUE_RE: Final = re.compile(_VALUE)
KV_HEAD_RE: Final = re.compile(r"""(\\?["']?)([A-Za-z][\w .-]*?)\\?["']?[ \t]*[:=][ \t]*""")
AUTH_SCHEME_RE: Final = re.compile(r"(?i)(bearer|basic|bot|token)[ \t]+")
MASKED_USER_RE: Final = re.compile(r"u_[0-9a-f]{16}")
PEM_LABEL_RE: Final = re.compile(r"-----BEGIN([A-Z ]*PRIVATE KEY(?: BLOCK)?)-----")


def trigger_mask(text: str) -> int:
    """Say which trigger substrings a text holds; 0 means no secret shape can be in it."""
    mask = 0
    if ":" in text:
        mask = T_COLON
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
    return mask
