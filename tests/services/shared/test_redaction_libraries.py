"""The two real leaks: ccxt's DEBUG request lines and httpx's INFO lines with a bot token, redacted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp import web

from crypto_observability.shared.redaction import Redactor

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BOT_TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"


class _Capture(logging.Handler):
    """Keep the formatted messages of the records a library emits."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def capture() -> Iterator[_Capture]:
    handler = _Capture()
    loggers = [logging.getLogger(name) for name in ("ccxt.base.exchange", "httpx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


async def _reply(request: web.Request) -> web.Response:
    if request.path.endswith("/getMe"):
        return web.json_response({"ok": True, "result": {"id": 7123456789, "is_bot": True, "first_name": "t",
                                                         "username": "t_bot"}})  # fmt: skip
    return web.json_response({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, status=401)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _reply)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _point_at(urls: dict[str, object], base: str) -> None:
    for key, value in urls.items():
        if isinstance(value, str):
            urls[key] = value.replace("https://", base + "/", 1)
        elif isinstance(value, dict):
            _point_at(value, base)


async def test_ccxt_debug_request_lines_come_out_clean(capture: _Capture, server: str) -> None:
    """ccxt's DEBUG lines carry X-MBX-APIKEY and the signature; after redaction neither is there."""
    import ccxt.async_support as ccxt

    exchange = ccxt.binanceusdm({"apiKey": API_KEY, "secret": API_SECRET})
    _point_at(exchange.urls["api"], server)
    try:
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_balance()
    finally:
        await exchange.close()
    raw = [m for m in capture.messages if "Request:" in m]
    assert raw and API_KEY in raw[0] and "signature=" in raw[0]  # the leak is real
    signature = raw[0].split("signature=")[1].split(",")[0]
    redactor = Redactor(user_salt="s")
    for message in capture.messages:
        clean = redactor.redact_text(message)
        assert API_KEY not in clean
        assert signature not in clean
        assert "recvWindow=10000" in clean or "Request:" not in message


async def test_httpx_telegram_url_comes_out_clean(capture: _Capture, server: str) -> None:
    """httpx's INFO line for a Bot API call names the token; after redaction only "bot***" remains."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server}/bot{BOT_TOKEN}/getMe")
    assert response.status_code == 200
    raw = [m for m in capture.messages if m.startswith("HTTP Request:")]
    assert raw and BOT_TOKEN in raw[0]
    clean = Redactor(user_salt="s").redact_text(raw[0])
    assert clean == f'HTTP Request: POST {server}/bot***/getMe "HTTP/1.1 200 OK"'
