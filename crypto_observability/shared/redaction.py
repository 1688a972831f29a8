"""Redaction: no secret and no raw user identity reaches a log line, whatever road it took.

The record pipeline calls one Redactor on every record, in the writer thread: the message,
every string of the context (at any depth), exception messages and stack traces, and the
lines of third-party libraries (httpx logs bot tokens in URLs, ccxt logs API-key headers and
signed query strings at DEBUG). Secrets become ``MASK`` (keeping a little shape: "Bearer ***",
"https://***@host", "/bot***/getMe"); people become ``mask_user()``'s keyed hash, the same for
the same person, so journeys can still be followed.

By name (context dicts, key=value / 'key': 'value' / "key": "value" in text, the name of a
name/value pair or tuple): secret words in any case and with any separators (db_pass, x-auth,
seed, sig, ...), but not a name about a secret (password_changed_at) nor an asset under a token
name (token="ETH"); identity names (user_id, username, chat_id, from_id, phone, email, ...) and
the "id" of a Telegram "from"/"chat" object are hashed. By value, in any string: bot tokens,
bearer tokens, JWTs, URL/DSN credentials, webhook and reset URLs, curl -u, AWS key ids and
secrets, PEM private keys, emails and "+"-prefixed phone numbers (not amounts). The rules and
the corpus they are held to: docs/redaction.md. Not caught: a bare random key with no name
beside it, national phone numbers without "+", names in prose.

It is fast because it is lazy: non-string scalars pass untouched, key decisions are cached per
distinct key, short strings are memoised, and a string with none of the substrings a secret
needs never reaches a regex. Other objects (bytes, dataclasses, anything with a __str__) come
out as redacted text or dicts, because their text form is where a secret would leak; numbers,
Decimal, UUID and dates pass through for the renderer. It never raises: a failure yields
``REDACTION_FAILED`` in place of the value.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import hashlib
import hmac
import numbers
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from crypto_observability.shared._redaction_patterns import (
    ASSET_OR_SECRET,
    ASSET_RE,
    AUTH_SCHEME_RE,
    AWS_KEY_ID_RE,
    AWS_SECRET_AFTER_RE,
    CREDENTIAL_HOST_LABELS,
    CREDENTIAL_SEGMENTS,
    CURL_HEAD_RE,
    IDENTITY_HOLDER,
    KV_HEAD_RE,
    LINK_PATH_RE,
    MASK,
    MASKED_USER_RE,
    PAIR_NAME_KEYS,
    PAIR_NAME_RE,
    PAIR_VALUE,
    PEM_LABEL_RE,
    PLAIN,
    QUERY_KEY,
    SECRET,
    TUPLE_NAME_RE,
    URL_LOGIN_RE,
    USER,
    VALUE_RE,
    WORD_START,
    amount_before,
    build_secret_re,
    classify_key,
    looks_like_secret,
    normalise_key,
    trigger_mask,
)

__all__ = ["CIRCULAR", "MASK", "REDACTION_FAILED", "TOO_DEEP", "Redactor", "redactor_from_environment",
           "secrets_from_environment"]

REDACTION_FAILED: Final = "[redaction failed]"
CIRCULAR: Final = "[circular]"
TOO_DEEP: Final = "[too deep]"
MAX_DEPTH: Final = 24
_MEMO_MAX_LEN: Final = 256  # only strings this short are memoised
_PTB_REPR_ID: Final = re.compile(r"(\b(?:Chat|User)\((?:[^()]|\([^()]*\))*?\bid=)(-?\d+)")
_MIN_KNOWN_SECRET: Final = 8  # known secret values shorter than this are not matched as bare text
_CACHE_SIZE: Final = 4096  # caches are cleared when full: cheap, thread-safe, bounded
_LONG_MEMO_SIZE: Final = 128  # longer strings (stack traces) up to max_field_chars; ~2 MB at most
_MAX_PASSES: Final = 4  # scans of one text: a pass that changes something is followed by another, up to this
_LOOKAHEAD_CHARS: Final = 4096  # context kept past the cut so a secret straddling it is still seen
_MARKER_ROOM: Final = 40  # the marker's longest form fits here, so output never exceeds the limit
_KIND_BITS: Final = 7
_REWRITE_KEY: Final = 8  # flag in the key cache: the key's own text holds something to redact
_KV_LABELS: Final = frozenset({"kv", "kvq", "kve", "pair", "tuple", "link"})
_MASKED_KINDS: Final = frozenset({SECRET, USER, ASSET_OR_SECRET})  # kinds whose value is not left as it is
# Environment variables whose names read as secret words but hold none (PWD is the working directory).
NON_SECRET_VARIABLES: Final = frozenset({"PWD", "OLDPWD"})
_REGEX_BY_TRIGGERS: dict[int, re.Pattern[str]] = {}  # at most 256 entries, one per trigger set
_PASS_THROUGH: Final = frozenset(
    {int, float, bool, type(None), decimal.Decimal, uuid.UUID,
     datetime.datetime, datetime.date, datetime.time, datetime.timedelta}
)  # fmt: skip


class Redactor:
    """Mask secrets and hash user identities in log text and context, never raising.

    Without ``user_salt`` a random per-process salt is used: hashes are then stable within one
    process only, so set LOG_USER_SALT for journeys that span restarts and services.
    """

    def __init__(
        self,
        *,
        user_salt: str | bytes | None = None,
        extra_secret_keys: Iterable[str] = (),
        max_field_chars: int = 8192,
        known_secrets: Iterable[str] = (),
    ) -> None:
        if isinstance(max_field_chars, bool) or not isinstance(max_field_chars, int) or max_field_chars < 64:
            raise ValueError(f"max_field_chars={max_field_chars!r}: must be an integer >= 64")
        if user_salt is None:
            user_salt = os.urandom(32)
        self._salt = user_salt.encode() if isinstance(user_salt, str) else bytes(user_salt)
        self._extra = frozenset(normalise_key(k) for k in extra_secret_keys)
        # exact values (the configured bot token, API keys, the salt) masked wherever they appear,
        # longest first so a secret containing another is masked whole; short ones would over-mask
        self._known = tuple(sorted({v for v in known_secrets if len(v) >= _MIN_KNOWN_SECRET}, key=len, reverse=True))
        self._max = max_field_chars
        self._key_kinds: dict[str, int] = {}
        self._plain_keys: set[str] = set()  # keys whose kind is PLAIN or QUERY_KEY, needing no rewrite
        self._memo: dict[str, str] = {}
        self._memo_len = min(_MEMO_MAX_LEN, max_field_chars)
        self._long_memo: dict[str, str] = {}
        self._users: dict[str, str] = {}

    # -- public API -------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """Mask every secret shape in free text and hash emails and phone numbers in it."""
        try:
            if text.__class__ is not str:
                text = str(text)
            return self._text(text)
        except Exception:
            return REDACTION_FAILED

    @property
    def known_text(self) -> Callable[[str], str | None]:
        """Look up a short str's redaction when it is already known (None otherwise); never scans."""
        return self._memo.get

    def redact_context(self, ctx: dict[str, Any]) -> dict[str, Any]:
        """Return a redacted copy of a context dict, at any depth; the input is never mutated."""
        try:
            if ctx.__class__ is dict and ctx.keys() <= self._plain_keys:  # hot path: known plain keys
                out = dict(ctx)
                memo = self._memo
                for key, value in ctx.items():
                    cls = value.__class__
                    if cls is str:
                        done = memo.get(value)
                        if done is None:
                            break
                        if done is not value:
                            out[key] = done
                    elif cls not in _PASS_THROUGH:
                        break
                else:
                    return out
            if not isinstance(ctx, Mapping):
                return {"context": self._value(ctx, 1, ())}
            return self._dict(ctx, 0, (), False)
        except Exception:
            return {"context": REDACTION_FAILED}

    def mask_user(self, identity: object) -> str:
        """Return "u_" + 16 hex of HMAC-SHA256(salt, str(identity)): same person, same value."""
        try:
            raw = str(identity)
            masked = self._users.get(raw)
            if masked is None:
                digest = hmac.new(self._salt, raw.encode("utf-8", "surrogatepass"), hashlib.sha256)
                masked = "u_" + digest.hexdigest()[:16]
                if len(self._users) >= _CACHE_SIZE:
                    self._users.clear()
                self._users[raw] = masked
            return masked
        except Exception:
            return REDACTION_FAILED

    def is_secret_key(self, key: str) -> bool:
        """Tell whether values under this key name are secrets (any case, any separators)."""
        return self._kind(key) in (SECRET, ASSET_OR_SECRET)

    def is_user_key(self, key: str) -> bool:
        """Tell whether values under this key name identify a person."""
        return self._kind(key) == USER

    # -- structures -------------------------------------------------------------------------

    def _kind(self, key: str) -> int:
        return self._key_entry(key) & _KIND_BITS

    def _key_entry(self, key: str) -> int:
        """Classify a key once and remember it, with a flag when its own text needs redacting."""
        entry = self._key_kinds.get(key)
        if entry is None:
            entry = classify_key(key, self._extra)
            if self._text(key) != key:
                entry |= _REWRITE_KEY
            if len(self._key_kinds) >= _CACHE_SIZE:
                self._key_kinds.clear()
                self._plain_keys.clear()
            self._key_kinds[key] = entry
            if entry <= QUERY_KEY:
                self._plain_keys.add(key)
        return entry

    def _dict(self, d: Mapping[Any, Any], depth: int, path: tuple[int, ...], holder: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        entries, memo = self._key_kinds, self._memo
        for key, value in d.items():
            try:
                kind = entries.get(key)
                if kind is not None and kind <= QUERY_KEY and not holder:  # hot path: a known plain key
                    cls = value.__class__
                    if cls is str:
                        done = memo.get(value)
                        out[key] = done if done is not None else self._text(value)
                        continue
                    if cls in _PASS_THROUGH:
                        out[key] = value
                        continue
                self._item(out, key, value, depth, (*path, id(d)), holder, d)
            except Exception:
                out[key if entries.get(key) == PLAIN else REDACTION_FAILED] = REDACTION_FAILED
        return out

    def _item(self, out: dict[str, Any], key: Any, value: Any, depth: int, path: tuple[int, ...], holder: bool,
              parent: Mapping[Any, Any]) -> None:
        """Redact one entry the hot path could not: a new, secret or personal key, or a container."""
        if key.__class__ is str:
            kind = self._key_entry(key)
            if kind & _REWRITE_KEY:
                key = self._text(key)
                kind &= _KIND_BITS
        else:
            key = self._text(_as_text(key))
            kind = self._kind(key)
        if kind <= QUERY_KEY and holder and key == "id":
            kind = USER
        if kind == PAIR_VALUE:  # {"name": "DB_PASS", "value": ...}: the value is what its name says
            kind = self._pair_kind(parent)
        if kind in _MASKED_KINDS and not (kind == USER and isinstance(value, Mapping)):
            out[key] = self._masked(kind, value)
        else:
            out[key] = self._value(value, depth + 1, path, kind in (USER, IDENTITY_HOLDER))

    def _value(self, value: Any, depth: int, path: tuple[int, ...], holder: bool = False) -> Any:
        cls = value.__class__
        if cls is str:
            return self._text(value)
        if cls in _PASS_THROUGH or isinstance(value, numbers.Number):
            return value
        if isinstance(value, Mapping | list | tuple | set | frozenset):
            if id(value) in path:
                return CIRCULAR
            if depth > MAX_DEPTH:
                return TOO_DEEP
            if isinstance(value, Mapping):
                return self._dict(value, depth, path, holder)
            inner = (*path, id(value))
            if len(value) == 2 and isinstance(value, list | tuple):  # ("X-MBX-APIKEY", "..."): a name/value pair
                name, second = value
                kind = self._name_kind(name)
                if kind in _MASKED_KINDS and not (kind == USER and isinstance(second, Mapping)):
                    pair = [self._value(name, depth + 1, inner), self._masked(kind, second)]
                    return tuple(pair) if cls is tuple else pair
            items = [self._value(item, depth + 1, inner, holder) for item in value]
            return tuple(items) if cls is tuple else items
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
            return self._value(fields, depth, path, holder)
        if isinstance(value, bytes | bytearray | memoryview):
            return self._text(bytes(value).decode("utf-8", "replace"))
        return self._text(_as_text(value))

    def _pair_kind(self, pair: Mapping[Any, Any]) -> int:
        """Kind of the name beside a "value" key (name/Name/key/Key), PLAIN when there is none."""
        for name_key in PAIR_NAME_KEYS:
            name = pair.get(name_key)
            if name is not None:
                return self._name_kind(name)
        return PLAIN

    def _name_kind(self, name: object) -> int:
        """Kind of a name given as str or bytes; anything else names nothing."""
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        return self._kind(name) if isinstance(name, str) else PLAIN

    def _masked(self, kind: int, value: Any) -> Any:
        """The value of a secret, personal or asset-or-secret key."""
        if kind == USER:
            return self._user(value)
        if kind == ASSET_OR_SECRET and value.__class__ is str and ASSET_RE.fullmatch(value):
            return value
        return self._secret(value)

    def _secret(self, value: Any) -> Any:
        if value is None or value.__class__ is bool:
            return value
        return _mask_secret_text(value) if value.__class__ is str else MASK

    def _user(self, value: Any) -> Any:
        if value is None or value.__class__ is bool:
            return value
        if value.__class__ is str and MASKED_USER_RE.fullmatch(value):
            return value
        if isinstance(value, list | tuple | set | frozenset):
            return [self._user(item) for item in value]
        return self.mask_user(value)

    # -- text -------------------------------------------------------------------------------

    def _text(self, text: str) -> str:
        if len(text) <= self._memo_len:
            memo = self._memo
            done = memo.get(text)
            if done is None:
                done = self._scan(text)
                if len(done) > self._max:
                    done = self._long_text(text)
                if len(memo) >= _CACHE_SIZE:
                    memo.clear()
                memo[text] = done
            return done
        if len(text) > self._max:
            return self._long_text(text)
        done = self._long_memo.get(text)  # repeated tracebacks: hashing 3 kB beats scanning it
        if done is None:
            done = self._long_text(text)
            if len(self._long_memo) >= _LONG_MEMO_SIZE:
                self._long_memo.clear()
            self._long_memo[text] = done
        return done

    def _long_text(self, text: str) -> str:
        """Redact a long field, then cut it to max_field_chars with a marker saying how much went."""
        head = text[: self._max + _LOOKAHEAD_CHARS]
        done = self._scan(head)
        dropped = len(text) - len(head)
        if not dropped and len(done) <= self._max:
            return done
        keep = self._max - _MARKER_ROOM
        return done[:keep] + f"…[truncated {len(done) - keep + dropped} chars]"

    def _scan(self, text: str) -> str:
        """Replace every secret shape, again while a pass changes something: a mask can bare a shape its secret hid
        ("...EXAMPLEBearer x": once the key is masked, "Bearer" starts a word), and redacting twice must change
        nothing. Text without a secret is scanned once."""
        for _ in range(_MAX_PASSES):
            done = self._scan_once(text)
            if done is text or done == text:
                return done
            text = done
        return text

    def _scan_once(self, text: str) -> str:
        """Replace every secret shape; an ordinary key=value is skipped up to its value only."""
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, MASK)
        if "id=" in text and ("Chat(" in text or "User(" in text):  # python-telegram-bot object reprs
            text = _PTB_REPR_ID.sub(lambda m: m.group(1) + self.mask_user(m.group(2)), text)
        mask = trigger_mask(text)
        if not mask:
            return text
        regex = _REGEX_BY_TRIGGERS.get(mask)
        if regex is None:
            regex = _REGEX_BY_TRIGGERS[mask] = build_secret_re(mask)
        padded = " " + text  # word-start branches match the character before the word
        search = regex.search
        parts: list[str] = []
        done = 0
        match = search(padded)
        while match is not None:
            end = match.end()
            if match.lastgroup in _KV_LABELS:
                new, end = self._replace_kv(match)
                if new is None:  # ordinary key: its value is scanned like any other text
                    match = search(padded, end)
                    continue
            else:
                new = self._replace(match)
            parts.append(padded[done : match.start()])
            parts.append(new)
            done = end
            match = search(padded, done)
        if not parts:
            return text
        parts.append(padded[done:])
        return "".join(parts)[1:]

    def _replace(self, m: re.Match[str]) -> str:
        kind = m.lastgroup
        found = m.group()
        lead = ""
        if kind in WORD_START:  # the match includes the character before the word: keep it
            lead, found = found[0], found[1:]
        if kind == "email":
            return lead + self.mask_user(found)
        if kind == "phone":  # "+44 20 7946 0958", "+14155552671"; not "balance delta +150000000"
            digits = sum(ch.isdigit() for ch in found)
            shortest = 8 if any(ch in " -(" for ch in found) else 10
            if not shortest <= digits <= 15 or amount_before(m.string, m.start()):
                return found
            return self.mask_user(found)
        if kind == "aws":  # the key id, and the secret key that followed it
            return MASK if len(found) == 20 else MASK + found[20:-40] + MASK
        if kind == "curl":
            return lead + CURL_HEAD_RE.match(found).group() + MASK  # type: ignore[union-attr]
        if kind == "url":
            return lead + found[: found.index("://") + 3] + MASK + "@"
        if kind == "botpath":
            return "/bot" + MASK
        if kind == "bearer":
            return lead + found[:6] + " " + MASK
        if kind == "tgid":  # keep the object's opening, hash the person's id, quoted like the key
            digits = len(found) - len(found.rstrip("0123456789-"))
            quote = found[0]
            return found[:-digits] + quote + self.mask_user(found[-digits:]) + quote
        if kind == "pem":
            head = PEM_LABEL_RE.match(found)
            label = head.group(1) if head else "PRIVATE KEY"
            return f"-----BEGIN{label}-----{MASK}-----END{label}-----"
        return MASK

    def _replace_kv(self, m: re.Match[str]) -> tuple[str | None, int]:
        """Mask or hash the value of a secret or personal key: (text, its end), else (None, resume)."""
        label, text, start, value_at = m.lastgroup, m.string, m.start(), m.end()
        if label == "link":
            return self._replace_link(m)
        if label == "kv":  # unquoted key after its boundary character; its end is marked
            key, key_quote, before = text[start + 1 : m.start("kvs")], "", text[start]
        elif label in ("pair", "tuple"):  # the name inside {"name": ..., "value": } or (name, ...)
            name_match = (PAIR_NAME_RE if label == "pair" else TUPLE_NAME_RE).match(text, start)
            if name_match is None:  # cannot happen: the branch and this regex agree; stay safe
                return None, value_at
            key, key_quote, before = name_match.group(1), "", ""
            if self._kind(key) not in _MASKED_KINDS:
                return None, start + 1  # an ordinary pair: read its inside like any other text
        else:
            head_match = KV_HEAD_RE.match(text, start)
            if head_match is None:  # cannot happen: the branch and this regex agree; stay safe
                return None, value_at
            key_quote, key, before = head_match.group(1), head_match.group(2), text[start - 1 : start]
        kind = self._kind(key)
        if kind == QUERY_KEY:  # ?key=... in a query string is an API key; key=<secret-shaped> too
            kind = SECRET if before in ("?", "&", ";") else -1
        value = VALUE_RE.match(text, value_at) if kind in _MASKED_KINDS or kind == -1 else None
        if value is None:
            return None, value_at - 1  # resume at the separator, a boundary for the value's first word
        val = value.group()
        opener = _quote_of(val)
        inner = val[len(opener) : len(val) - len(opener)] if opener else val
        if kind == -1:
            if not looks_like_secret(inner):
                return None, value_at - 1
            kind = SECRET
        if kind == USER:
            new = inner if MASKED_USER_RE.fullmatch(inner) else self.mask_user(inner)
        elif kind == ASSET_OR_SECRET and ASSET_RE.fullmatch(inner):
            return None, value.end()
        else:
            new = _mask_secret_text(inner)
        if not opener and key_quote.endswith('"'):
            opener = key_quote  # keep JSON valid: "chat_id": 555 -> "chat_id": "u_..."
        end = value.end()
        if AWS_KEY_ID_RE.fullmatch(inner) and (after := AWS_SECRET_AFTER_RE.match(text, end)):
            return text[start:value_at] + opener + new + opener + after.group()[:-40] + MASK, after.end()
        return text[start:value_at] + opener + new + opener, end

    def _replace_link(self, m: re.Match[str]) -> tuple[str | None, int]:
        """Mask the part of a URL's path that is its credential (webhook, reset link), else resume."""
        text, host_end = m.string, m.end()
        path = LINK_PATH_RE.match(text, host_end)
        if path is None:  # cannot happen: the branch saw a "/" there; stay safe
            return None, m.start() + 1
        segments = path.group().split("/")[1:]
        host = text[text.index("://", m.start()) + 3 : host_end].split(":", 1)[0].lower()
        cut = 1 if not CREDENTIAL_HOST_LABELS.isdisjoint(host.split(".")) else 0
        for index, segment in enumerate(segments):
            if segment.lower().replace("-", "").replace("_", "") in CREDENTIAL_SEGMENTS:
                cut = index + 1
        if not cut or cut >= len(segments) or not "".join(segments[cut:]):
            login = URL_LOGIN_RE.match(text, m.start())  # the URL may still carry user:password@
            # else read on as if this branch had not matched: from the scheme's first letter
            return (self._replace(login), login.end()) if login else (None, m.start() + 1)
        kept = "/".join(segments[:cut])
        return text[m.start() : host_end] + "/" + kept + "/" + MASK, path.end()


def redactor_from_environment(environ: Mapping[str, str] | None = None) -> Redactor:
    """The Redactor a tool reading the logs uses: the logs' salt (LOG_USER_SALT) and the environment's secrets."""
    env = os.environ if environ is None else environ
    return Redactor(user_salt=env.get("LOG_USER_SALT") or None, known_secrets=secrets_from_environment(env))


def secrets_from_environment(environ: Mapping[str, str]) -> list[str]:
    """Values of the variables that hold secrets (DB_PASS, BINANCE_SECRET, …_TOKEN, LOG_USER_SALT), to mask anywhere.

    A name says secret by the same rules as a context key; PWD and OLDPWD (directories) and values shaped
    like a path (GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json) or an asset (BASE_TOKEN=ETH) are not.
    """
    found = []
    for name, value in environ.items():
        if not value or name in NON_SECRET_VARIABLES or value.startswith(("/", "~/", "./")):
            continue
        kind = SECRET if name == "LOG_USER_SALT" else classify_key(name)
        if kind == SECRET or (kind == ASSET_OR_SECRET and not ASSET_RE.fullmatch(value)):
            found.append(value)
    return found


def _mask_secret_text(value: str) -> str:
    """Mask a secret, keeping an auth scheme word so "Bearer ***" still says what it was."""
    scheme = AUTH_SCHEME_RE.match(value)
    return scheme.group(0) + MASK if scheme else MASK


def _quote_of(val: str) -> str:
    if val[:2] in ('\\"', "\\'") and len(val) >= 4:
        return val[:2]
    if val[:1] in ('"', "'") and len(val) >= 2:
        return val[:1]
    return ""


def _as_text(value: object) -> str:
    """Render an unknown object as text, the form in which it would otherwise reach the log."""
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<unrepresentable {type(value).__name__}>"
