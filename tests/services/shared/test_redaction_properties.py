"""Redaction properties: secrets hidden anywhere never come out; the fast paths agree with the full scan."""

from __future__ import annotations

import copy
import string
from typing import Any
from unittest.mock import patch

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crypto_observability.shared import redaction
from crypto_observability.shared._redaction_patterns import ALL_TRIGGERS, SECRET_RE, build_secret_re, trigger_mask
from crypto_observability.shared.redaction import Redactor

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REDACTOR = Redactor(user_salt="property-salt")

_ALNUM = string.ascii_letters + string.digits
_B64URL = _ALNUM + "-_"

# Every secret holds an upper-case letter and fillers hold none, so a filler never repeats a secret.
bot_tokens = st.builds(
    lambda bot_id, secret: f"{bot_id}:AA{secret}",
    st.integers(100_000, 9_999_999_999),
    st.text(_B64URL, min_size=28, max_size=44),
)
jwts = st.builds(
    lambda a, b, c: f"eyJ{a}.eyJ{b}.{c}",
    st.text(_B64URL, min_size=10, max_size=40),
    st.text(_B64URL, min_size=10, max_size=60),
    st.text(_B64URL, min_size=20, max_size=43),
)
api_keys = st.text(_ALNUM + "/+", min_size=16, max_size=64).map(lambda s: "SK" + s)
secret_key_names = st.builds(
    lambda name, upper, sep: (name.upper() if upper else name).replace("_", sep),
    st.sampled_from(["api_key", "secret", "password", "access_token", "x_mbx_apikey", "ok_access_passphrase",
                     "client_secret", "private_key", "signature", "refresh_token", "x_bapi_api_key", "auth_token"]),
    st.booleans(),
    st.sampled_from(["_", "-", "", "."]),
)  # fmt: skip
filler = st.text(string.ascii_lowercase + string.digits + " .,-_/:", max_size=30)
separator = st.sampled_from([" ", "\n", ", ", " | ", "\t"])


def _in_text(shape: str, secret: str, key: str) -> str:
    return {
        "bare": secret,
        "kv": f"{key}={secret}",
        "kv_colon": f"{key}: {secret}",
        "quoted": f"'{key}': '{secret}'",
        "json": f'"{key}": "{secret}"',
        "query": f"https://api.example.com/v1/x?symbol=BTCUSDT&{key}={secret}&ts=1",
        "bearer": f"Authorization: Bearer {secret}",
        "bot_url": f"https://api.telegram.org/bot{secret}/getMe",
        "dsn": f"postgres://admin:{secret}@db:5432/app",
    }[shape]


@st.composite
def secret_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Draw free text with one secret hidden in it, in one of the shapes logs carry."""
    kind = draw(st.sampled_from(["bot", "jwt", "api_key"]))
    secret = draw({"bot": bot_tokens, "jwt": jwts, "api_key": api_keys}[kind])
    shapes = {"bot": ["bare", "bot_url", "kv", "json"], "jwt": ["bare", "bearer", "kv", "quoted"],
              "api_key": ["kv", "kv_colon", "quoted", "json", "query", "dsn"]}[kind]  # fmt: skip
    shape = draw(st.sampled_from(shapes))
    middle = _in_text(shape, secret, draw(secret_key_names))
    text = draw(filler) + draw(separator) + middle + draw(separator) + draw(filler)
    return text, [secret]


@st.composite
def secret_under_key(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    secret = draw(st.one_of(api_keys, bot_tokens, jwts))
    return {draw(secret_key_names): secret}, [secret]


ordinary = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["BTC/USDT", "BTC-USDT-SWAP", "binance", "2025-01-15T10:30:00.000Z", "a1b2c3d4"]),
    filler,
)  # fmt: skip
leaves = st.one_of(ordinary.map(lambda v: (v, [])), secret_text(), secret_under_key())
plain_keys = st.sampled_from(["symbol", "exchange", "data", "items", "meta", "response_time_ms", "note"])


def _combine_list(children: list[tuple[Any, list[str]]]) -> tuple[Any, list[str]]:
    return [value for value, _ in children], [s for _, secrets in children for s in secrets]


def _combine_dict(children: list[tuple[str, tuple[Any, list[str]]]]) -> tuple[Any, list[str]]:
    return {k: v for k, (v, _) in children}, [s for _, (_, secrets) in children for s in secrets]


structures = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_combine_list),
        st.lists(st.tuples(plain_keys, inner), max_size=4).map(_combine_dict),
    ),
    max_leaves=12,
)


@FAST
@given(structures, plain_keys)
def test_hidden_secrets_never_reach_the_json(drawn: tuple[Any, list[str]], key: str) -> None:
    """Secrets anywhere in a nested context are absent from the rendered JSON, which always renders."""
    value, secrets = drawn
    ctx = {key: value}
    before = copy.deepcopy(ctx)
    rendered = orjson.dumps(REDACTOR.redact_context(ctx))
    for secret in secrets:
        assert secret.encode() not in rendered
    assert ctx == before


@FAST
@given(secret_text())
def test_secrets_in_free_text_are_masked(drawn: tuple[str, list[str]]) -> None:
    """A secret inside random surrounding text is masked in the message road too."""
    text, secrets = drawn
    out = REDACTOR.redact_text(text)
    for secret in secrets:
        assert secret not in out


# Text built from the characters and fragments the patterns care about, to reach every branch.
_FRAGMENTS = ["eyJ", "earer", "EARER", "Bearer ", "AKIA", "ASIA", "ABCDEFGHIJKLMNOP", "-----BEGIN",
              " PRIVATE KEY-----", "-----END PRIVATE KEY-----", "://", "@", ".com", "+44 ", "20 7946",
              "/bot", "123456789", ":", "=", "'", '"', "\\", "password", "token", "key", "?", "&", " ", "\n",
              "chat_id", "u_0123456789abcdef", "***", "abcdefghijklmnopqrstuvwxyz0123456789",
              "\"from\": {\"id\": ", "{'id': -100", "https://", "hooks.", "/webhooks/", "/reset/", "-u ",
              "\"name\": ", "'value': ", "('", "AKIAIOSFODNN7EXAMPLE", ":9443/ws/", "+150000000"]  # fmt: skip
rich_text = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(string.printable, max_size=6)), max_size=14
).map("".join)


def _matches(regex: Any, text: str) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in regex.finditer(text)]


class _FullScan(Redactor):
    """A Redactor that skips the trigger pre-check: every text is scanned with the full alternation."""

    def _scan(self, text: str) -> str:
        with patch.object(redaction, "trigger_mask", lambda _text: ALL_TRIGGERS):
            return super()._scan(text)


FULL_SCAN = _FullScan(user_salt="property-salt")


@settings(max_examples=400, deadline=None)
@given(rich_text)
def test_trigger_precheck_never_skips_a_match(text: str) -> None:
    """Redaction with the regex the cheap trigger check chooses equals redaction with the full alternation."""
    assert REDACTOR.redact_text(text) == FULL_SCAN.redact_text(text)


@settings(max_examples=200, deadline=None)
@given(rich_text)
def test_a_branch_left_out_could_not_have_matched(text: str) -> None:
    """Every branch but "link" (a URL the Redactor reads further) needs its triggers to match at all."""
    full = [m for m in _matches(SECRET_RE, text) if m[2] != "link"]
    if len(full) == len(_matches(SECRET_RE, text)):
        assert _matches(build_secret_re(trigger_mask(text)), text) == full


@settings(max_examples=300, deadline=None)
@given(rich_text)
@example("+44 20 7946AKIAIOSFODNN7EXAMPLE")  # the key masked, the digits before it read as a phone number
@example("AKIAIOSFODNN7EXAMPLEBearer eyJ")  # the key masked, "Bearer" starts a word
def test_text_redaction_is_idempotent(text: str) -> None:
    """Redacting already-redacted text changes nothing."""
    once = REDACTOR.redact_text(text)
    assert REDACTOR.redact_text(once) == once


@FAST
@given(structures)
def test_context_redaction_is_idempotent(drawn: tuple[Any, list[str]]) -> None:
    """Redacting an already-redacted context changes nothing."""
    once = REDACTOR.redact_context({"v": drawn[0]})
    assert REDACTOR.redact_context(once) == once


@FAST
@given(st.one_of(st.integers(), st.text(max_size=40)), st.text(string.ascii_letters, min_size=1, max_size=20),
       st.text(string.ascii_letters, min_size=1, max_size=20))
def test_user_hash_is_stable_and_salted(identity: object, salt: str, other: str) -> None:
    """The same identity always hashes the same under one salt, and differently under another salt."""
    r = Redactor(user_salt=salt)
    assert r.mask_user(identity) == Redactor(user_salt=salt).mask_user(identity) == r.mask_user(identity)
    if other != salt:
        assert Redactor(user_salt=other).mask_user(identity) != r.mask_user(identity)
