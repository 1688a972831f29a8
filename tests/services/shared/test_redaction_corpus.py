"""Redaction corpus: every secret shape comes out masked, every ordinary value comes out as it was."""

from __future__ import annotations

import copy
import re

import orjson
import pytest

from crypto_observability.shared.redaction import CIRCULAR, MASK, REDACTION_FAILED, TOO_DEEP, Redactor

BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SIG = "8ea6ea05f54303eee4b285918520e5324790feb619dc57ce5e5f635007b5f7e1"
BOT_TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
USER_HASH = re.compile(r"u_[0-9a-f]{16}")


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(user_salt="corpus-salt")


# (text as a library logs it, secrets that must be gone, fragments that must stay)
LEAKS = [
    pytest.param(
        # ccxt 4.5 async, logger ccxt.base.exchange, "%s %s, Request: %s %s" (captured on this machine)
        f"GET http://127.0.0.1:39039/fapi.binance.com/fapi/v3/account?timestamp=1795832649819"
        f"&recvWindow=10000&signature={BINANCE_SIG}, Request: {{'X-MBX-APIKEY': '{BINANCE_KEY}', "
        f"'User-Agent': 'python-requests/2.34.2', 'Accept-Encoding': 'gzip, deflate'}} None",
        [BINANCE_KEY, BINANCE_SIG],
        ["timestamp=1795832649819", "recvWindow=10000", "'X-MBX-APIKEY': '***'", "signature=***,"],
        id="ccxt-binance-request",
    ),
    pytest.param(
        "POST https://www.okx.com/api/v5/trade/order, Request: {'OK-ACCESS-KEY': 'okkey-0f2b9c', "
        "'OK-ACCESS-SIGN': 'c2lnbmF0dXJlLWJhc2U2NA==', 'OK-ACCESS-TIMESTAMP': '2025-01-15T10:30:00.000Z', "
        "'OK-ACCESS-PASSPHRASE': 'my pass phrase', 'Content-Type': 'application/json'} "
        '{"instId":"BTC-USDT-SWAP","sz":"1"}',
        ["okkey-0f2b9c", "c2lnbmF0dXJlLWJhc2U2NA==", "my pass phrase"],
        ["'OK-ACCESS-TIMESTAMP': '2025-01-15T10:30:00.000Z'", '"instId":"BTC-USDT-SWAP"'],
        id="ccxt-okx-headers",
    ),
    pytest.param(
        'POST https://api.bybit.com/v5/order/create, Request: {"X-BAPI-API-KEY": "bybitKEY123", '
        '"X-BAPI-SIGN": "ab12cd34", "X-BAPI-TIMESTAMP": "1736937000000"} None',
        ["bybitKEY123", "ab12cd34"],
        ['"X-BAPI-TIMESTAMP": "1736937000000"'],
        id="ccxt-bybit-json-headers",
    ),
    pytest.param(
        # httpx INFO, logger httpx, as python-telegram-bot makes it log the token
        f'HTTP Request: POST https://api.telegram.org/bot{BOT_TOKEN}/getMe "HTTP/1.1 200 OK"',
        [BOT_TOKEN, BOT_TOKEN.split(":")[1]],
        ["https://api.telegram.org/bot***/getMe", '"HTTP/1.1 200 OK"'],
        id="httpx-telegram",
    ),
    pytest.param(
        'HTTP Request: POST http://127.0.0.1:8081/bot123456:TEST-TOKEN-abcdef/sendMessage "HTTP/1.1 200 OK"',
        ["TEST-TOKEN-abcdef"],
        ["http://127.0.0.1:8081/bot***/sendMessage"],
        id="httpx-short-test-token",
    ),
    pytest.param(f"token is {BOT_TOKEN} now", [BOT_TOKEN], ["token is *** now"], id="bare-bot-token"),
    pytest.param(f"Authorization: Bearer {JWT}", [JWT], ["Authorization: Bearer ***"], id="bearer-header"),
    pytest.param(f"got jwt {JWT} from login", [JWT], ["got jwt *** from login"], id="jwt"),
    pytest.param(
        "connecting to postgres://admin:s3cr3tP%40ss@db.internal:5432/app",
        ["admin", "s3cr3tP%40ss"],
        ["postgres://***@db.internal:5432/app"],
        id="dsn",
    ),
    pytest.param(
        "redis://:hunter2@cache:6379/0 and https://user:pw@example.com/x",
        ["hunter2", "user:pw"],
        ["redis://***@cache:6379/0", "https://***@example.com/x"],
        id="url-credentials",
    ),
    pytest.param(
        "GET /v1/x?apiKey=AK123&sign=deadbeef&api_key=k2&token=t0k&key=gkey&symbol=BTCUSDT",
        ["AK123", "deadbeef", "k2", "t0k", "gkey"],
        ["symbol=BTCUSDT", "apiKey=***", "key=***"],
        id="signed-query",
    ),
    pytest.param(
        "aws AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
        ["aws_secret_access_key=***"],
        id="aws",
    ),
    pytest.param(
        "key file:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nb3BlbnNzaC1rZXk\n"
        "-----END RSA PRIVATE KEY-----\nloaded",
        ["MIIEowIBAAKCAQEA7", "b3BlbnNzaC1rZXk"],
        ["-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----", "loaded"],
        id="pem",
    ),
    pytest.param(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut off",
        ["b3BlbnNzaC1rZXktdjEAAAAA"],
        ["-----BEGIN OPENSSH PRIVATE KEY-----***"],
        id="pem-truncated",
    ),
    pytest.param(
        'login password=hunter2 passwd: "p4ss" {"password": "x\\"y"} \\"secret\\": \\"zz9\\"',
        ["hunter2", "p4ss", 'x\\"y', "zz9"],
        ["password=***", 'passwd: "***"', '"password": "***"', '\\"secret\\": \\"***\\"'],
        id="key-value-forms",
    ),
    pytest.param(
        "sendMessage chat_id=555123&text=ETH%2FUSDT",
        ["555123"],
        ["text=ETH%2FUSDT"],
        id="telegram-form-body",
    ),
    pytest.param(
        # python-telegram-bot's Updater at DEBUG: "Webhook received data: ..."
        'Webhook received data: {"update_id": 10, "message": {"message_id": 5, "from": {"id": 555123, '
        '"is_bot": false, "first_name": "Al", "username": "al_k"}, "chat": {"id": 555123, "type": "private"}, '
        '"text": "/price BTC"}}',
        ["555123", "al_k", '"Al"'],
        ['"update_id": 10', '"message_id": 5', '"text": "/price BTC"', '"type": "private"'],
        id="telegram-update-json",
    ),
    pytest.param(
        "url=https://bob:pw@example.com/x",
        ["bob:pw"],
        ["url=https://***@example.com/x"],
        id="secret-inside-ordinary-value",
    ),
    pytest.param(
        "aiohttp.access 127.0.0.1 \"GET /fapi/v3/account?timestamp=1&signature=abc123ff HTTP/1.1\" 401",
        ["abc123ff"],
        ["signature=*** HTTP/1.1", "401"],
        id="aiohttp-access-line",
    ),
]


@pytest.mark.parametrize(("text", "secrets", "kept"), LEAKS)
def test_secret_shapes_are_masked(redactor: Redactor, text: str, secrets: list[str], kept: list[str]) -> None:
    """Each secret shape libraries really log comes out masked, with its surroundings intact."""
    out = redactor.redact_text(text)
    for secret in secrets:
        assert secret not in out
    for fragment in kept:
        assert fragment in out


ORDINARY = [
    "OI aggregation completed",
    "Fetched BTC/USDT, BTC-USDT-SWAP and BTC/USDT:USDT from binance, okx, bybit",
    "price=50123.45 change=+5.23% volume=1234.5678 oi=1500000000",
    "request_id=3f2b8c1d9e4a4b5c8d7e6f5a4b3c2d1e order_id=1234567890123 trace 4bf92f3577b34da6",
    "commit a1b2c3d4 full 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "at 2025-01-15T10:30:00.000Z (10:30:00) took 1234.5ms, p95 850ms",
    "GET https://fapi.binance.com:443/fapi/v1/ticker/24hr?symbol=BTCUSDT 200",
    "ws stream btcusdt@miniTicker and btcusdt@depth@100ms on stream.binance.com:9443",
    "cache key=ticker:BTC/USDT hit=true",
    "127.0.0.1:8080 localhost:5432 api.telegram.org",
    "Error: connection refused; retrying in 1.1 seconds",
    "HTTP Request: GET http://127.0.0.1:8000/health \"HTTP/1.1 200 OK\"",
    "user sent /price BTC and /alert ETH 3500",
    "ratio 1:2, time 12:30, id 1234567:abc",
    "Bearer token missing",
    '127.0.0.1:54321 - "GET /api/v1/oi?symbol=BTC-USDT&exchange=binance HTTP/1.1" 200',
    'Traceback (most recent call last):\n  File "/app/services/market_data/main.py", line 42, in fetch\n'
    '    raise ValueError("bad symbol: BTC/USDT")\nValueError: bad symbol: BTC/USDT',
    "Rate limit hit. Retrying after 1.100000 seconds",
    'binanceusdm {"code":-1121,"msg":"Invalid symbol."}',
    "ws://127.0.0.1:9443/market/ws/0 subscribed id=1",
    '{"update_id": 10, "message_id": 5, "date": 1736937000, "text": "/price BTC"}',
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_values_are_kept(redactor: Redactor, text: str) -> None:
    """Symbols, prices, ids, hashes, timestamps, URLs and hosts are never masked (except a bare 'Bearer')."""
    out = redactor.redact_text(text)
    if text == "Bearer token missing":
        assert out == "Bearer *** missing"  # a lone scheme word is masked: the safe side
    else:
        assert out == text


def test_emails_and_phones_in_text_become_the_users_hash(redactor: Redactor) -> None:
    """Emails and international phone numbers in free text become the person's stable hash."""
    out = redactor.redact_text("mail bob@example.com or call +44 20 7946 0958.")
    assert out == f"mail {redactor.mask_user('bob@example.com')} or call {redactor.mask_user('+44 20 7946 0958')}."


def test_user_hash_is_the_same_on_every_road(redactor: Redactor) -> None:
    """A chat id hashes the same in the context, in key=value text, and in a JSON body."""
    expected = redactor.mask_user(555)
    assert redactor.redact_context({"chat_id": 555})["chat_id"] == expected
    assert redactor.redact_text("chat_id=555") == f"chat_id={expected}"
    assert redactor.redact_text('{"chat_id": 555}') == f'{{"chat_id": "{expected}"}}'


SEED = {"symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 1234.5, "total_oi_usd": 1500000000,
        "exchange": "binance"}  # fmt: skip


def test_seed_context_passes_through_unchanged(redactor: Redactor) -> None:
    """The seed's context comes out equal, as a new dict."""
    out = redactor.redact_context(SEED)
    assert out == SEED
    assert out is not SEED


@pytest.mark.parametrize(
    "key",
    ["api_key", "apiKey", "API-KEY", "secret", "secret_key", "password", "passwd", "passphrase", "token",
     "access_token", "refresh_token", "Authorization", "cookie", "Set-Cookie", "signature", "private_key",
     "client_secret", "X-MBX-APIKEY", "OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-PASSPHRASE",
     "X-BAPI-API-KEY", "X-BAPI-SIGN", "credentials", "bot_token", "x.auth.token", "DB Password"],
)  # fmt: skip
def test_secret_keys_in_any_spelling(redactor: Redactor, key: str) -> None:
    """Secret key names are recognised whatever their case and separators."""
    assert redactor.is_secret_key(key)
    assert redactor.redact_context({"outer": [{key: "s3cr3t-value"}]}) == {"outer": [{key: MASK}]}


@pytest.mark.parametrize(
    "key", ["request_id", "order_id", "symbol", "key", "max_tokens", "token_count", "exchange", "timestamp",
            "OK-ACCESS-TIMESTAMP", "X-BAPI-TIMESTAMP", "response_time_ms", "update_id", "message_id"]
)  # fmt: skip
def test_ordinary_keys_are_not_secret(redactor: Redactor, key: str) -> None:
    """Ordinary key names are neither secret nor identities."""
    assert not redactor.is_secret_key(key)
    assert not redactor.is_user_key(key)
    assert redactor.redact_context({key: "BTC-USDT"}) == {key: "BTC-USDT"}


@pytest.mark.parametrize("key", ["user_id", "userId", "username", "chat_id", "from_id", "phone", "phone_number",
                                 "email", "User-Name"])  # fmt: skip
def test_user_keys_become_hashes(redactor: Redactor, key: str) -> None:
    """Identity keys become the keyed hash of their value."""
    assert redactor.is_user_key(key)
    assert redactor.redact_context({key: "alice"}) == {key: redactor.mask_user("alice")}


def test_secret_values_keep_their_scheme_and_harmless_types(redactor: Redactor) -> None:
    """Bearer keeps its scheme word; None and booleans under secret keys stay; anything else is masked."""
    ctx = {"Authorization": "Bearer abc", "token": None, "signature_valid": True, "pin_password": 1234,
           "credentials": {"user": "x", "pass": "y"}}  # fmt: skip
    expected = {"Authorization": "Bearer ***", "token": None, "signature_valid": True, "pin_password": MASK,
                "credentials": MASK}  # fmt: skip
    assert redactor.redact_context(ctx) == expected


def test_telegram_objects_hash_the_person_id(redactor: Redactor) -> None:
    """Inside a Telegram "from"/"chat" object the id and names are hashed; other fields stay."""
    out = redactor.redact_context({"from": {"id": 42, "is_bot": False, "username": "al"}, "update_id": 7})
    assert out == {"from": {"id": redactor.mask_user(42), "is_bot": False, "username": redactor.mask_user("al")},
                   "update_id": 7}  # fmt: skip


def test_context_input_is_never_mutated(redactor: Redactor) -> None:
    """Redacting returns new containers and leaves the caller's dict exactly as it was."""
    ctx = {"headers": {"X-MBX-APIKEY": "k"}, "items": [{"password": "p"}], "t": ("a", "b")}
    before = copy.deepcopy(ctx)
    redactor.redact_context(ctx)
    assert ctx == before


def test_recursive_and_deep_structures_are_cut(redactor: Redactor) -> None:
    """A dict containing itself and very deep nesting render as markers, not errors."""
    loop: dict[str, object] = {"name": "loop"}
    loop["self"] = loop
    deep: list[object] = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    out = redactor.redact_context({"loop": loop, "deep": deep})
    assert out["loop"]["self"] == CIRCULAR
    assert TOO_DEEP.encode() in orjson.dumps(out)


def test_long_fields_are_truncated_after_redaction(redactor: Redactor) -> None:
    """A field longer than max_field_chars is cut, with a marker, and a secret near the cut is masked."""
    small = Redactor(user_salt="s", max_field_chars=100)
    text = "x " * 45 + f"token={BOT_TOKEN} " + "y" * 500
    out = small.redact_text(text)
    assert len(out) <= 100
    assert "…[truncated " in out
    assert BOT_TOKEN[:12] not in out
    assert small.redact_text(out) == out


def test_unusual_values_never_raise_or_leak(redactor: Redactor) -> None:
    """Objects with broken __str__, bytes and non-string keys come out JSON-safe and redacted."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("boom")

        def __repr__(self) -> str:
            raise RuntimeError("boom")

    ctx = {"b": Broken(), "raw": f"bot{BOT_TOKEN}".encode(), 3: "three", "s": {f"token={BOT_TOKEN}"}}
    out = redactor.redact_context(ctx)  # type: ignore[dict-item]
    dumped = orjson.dumps(out)
    assert BOT_TOKEN.encode() not in dumped
    assert out["3"] == "three"
    assert out["b"].startswith("<unrepresentable")


def test_failures_become_a_placeholder() -> None:
    """A failure inside redaction yields the placeholder, never an exception or the raw value."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("password=hunter2")

    class Shifty:
        @property  # type: ignore[misc]
        def __class__(self) -> type:  # type: ignore[override]
            raise RuntimeError("password=hunter2")

    class BadMap(dict[str, object]):
        def items(self) -> object:  # type: ignore[override]
            raise RuntimeError("password=hunter2")

    r = Redactor(user_salt="s")
    assert r.redact_text(Unprintable()) == REDACTION_FAILED  # type: ignore[arg-type]
    assert r.redact_context({"ok": 1, "odd": Shifty()}) == {"ok": 1, "odd": REDACTION_FAILED}
    assert r.redact_context(BadMap(a=1)) == {"context": REDACTION_FAILED}
    assert r.redact_context("not a dict") == {"context": "not a dict"}  # type: ignore[arg-type]


def test_extra_secret_keys_and_bad_settings() -> None:
    """Extra secret keys are honoured in any spelling; a too-small field limit is refused by name."""
    r = Redactor(user_salt="s", extra_secret_keys=["Wallet-Seed"])
    assert r.redact_context({"wallet_seed": "abandon abandon"}) == {"wallet_seed": MASK}
    assert r.redact_text("WALLET_SEED=abandon") == "WALLET_SEED=***"
    with pytest.raises(ValueError, match="max_field_chars=10"):
        Redactor(max_field_chars=10)


def test_user_hash_shape_and_salt() -> None:
    """mask_user gives u_ + 16 hex, the same for the same salt and different across salts."""
    a, b = Redactor(user_salt="one"), Redactor(user_salt=b"two")
    assert USER_HASH.fullmatch(a.mask_user(42))
    assert a.mask_user(42) == Redactor(user_salt="one").mask_user("42")
    assert a.mask_user(42) != b.mask_user(42)
    assert Redactor().mask_user(42) != Redactor().mask_user(42)  # no salt: a random one per instance
