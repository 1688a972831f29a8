"""Output for real, in child processes: files on disk at exit and on SIGTERM, permissions,
third-party secrets redacted on the real httpx and ccxt roads, and uvicorn under our config."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from crypto_observability.shared.testing import validate_record

ROOT = Path(__file__).resolve().parents[3]
BOT_TOKEN = "7351234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def _run(code: str, log_dir: Path, *, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    full_env = {**os.environ, "LOG_DIR": str(log_dir), "LOG_CONSOLE": "false", "PYTHONPATH": str(ROOT),
                **(env or {})}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _records(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_everything_logged_is_on_disk_at_normal_exit_with_safe_permissions(tmp_path: Path) -> None:
    """50,000 queued events are all written by exit; files 0640 in a 0750 directory."""
    log_dir = tmp_path / "nested" / "logs"
    _run("""
        from crypto_observability.shared.structured_logger import create_structured_logger
        slog = create_structured_logger("market-data", "bulk")
        for i in range(50_000):
            slog.info("tick", seq=i, symbol="BTC-USDT")
    """, log_dir)
    records = _records(log_dir / "market-data.log")
    assert [r["context"]["seq"] for r in records] == list(range(50_000))  # type: ignore[index]
    assert (log_dir / "market-data.log").stat().st_mode & 0o777 == 0o640
    assert log_dir.stat().st_mode & 0o777 == 0o750


SETUP = {
    "main thread": 'slog = create_structured_logger("telegram-bot", "bulk")',
    "worker thread": ('made = []\n'
                      'worker = threading.Thread(target=lambda: made.append(create_structured_logger("telegram-bot", '
                      '"bulk")))\nworker.start(); worker.join(); slog = made[0]'),
}


@pytest.mark.parametrize("where", sorted(SETUP))
def test_sigterm_flushes_the_backlog(tmp_path: Path, where: str) -> None:
    """A service killed by SIGTERM still has every line it logged on disk, wherever setup ran
    (a framework's start-up hook or a notebook may set up off the main thread)."""
    code = textwrap.dedent("""
        import sys, threading, time
        from crypto_observability.shared.structured_logger import create_structured_logger
        {setup}
        for i in range(150_000):
            slog.info("tick", seq=i)
        print("ready", flush=True)
        for _ in range(1200):
            time.sleep(0.05)
    """).format(setup=SETUP[where])
    env = {**os.environ, "LOG_DIR": str(tmp_path), "LOG_CONSOLE": "false", "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True,
                          cwd=ROOT) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == -signal.SIGTERM
    assert len((tmp_path / "telegram-bot.log").read_bytes().splitlines()) == 150_000


def test_httpx_and_ccxt_never_leak_the_bot_token_or_exchange_keys(tmp_path: Path) -> None:
    """Real httpx INFO lines (token in the URL) and ccxt DEBUG lines (API key header, signature) come out clean."""
    out = _run(f"""
        import asyncio, logging
        from aiohttp import web
        import ccxt.async_support as ccxt, httpx
        from crypto_observability.shared.logging_config import setup_service_logging

        setup_service_logging("market-data", "leak_check")

        async def answer(request):
            return web.json_response({{"symbols": [], "assets": [], "positions": []}})

        async def main():
            app = web.Application()
            app.router.add_route("*", "/{{tail:.*}}", answer)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]
            async with httpx.AsyncClient() as client:
                await client.post(f"http://127.0.0.1:{{port}}/bot{BOT_TOKEN}/getMe")
            ex = ccxt.binanceusdm({{"apiKey": "{API_KEY}", "secret": "{API_SECRET}", "enableRateLimit": False}})
            for key, value in list(ex.urls["api"].items()):
                if isinstance(value, str):
                    ex.urls["api"][key] = value.replace("https://", f"http://127.0.0.1:{{port}}/", 1)
            try:
                await ex.fetch_balance()
            except Exception as exc:
                logging.getLogger("market-data.leak_check").warning("balance failed: %s", exc)
            finally:
                await ex.close()
            await runner.cleanup()
            print("done")

        asyncio.run(main())
    """, tmp_path, env={"LOG_LEVEL": "DEBUG"})
    assert "done" in out
    raw = (tmp_path / "market-data.log").read_text()
    loggers = {r.get("logger") for r in _records(tmp_path / "market-data.log")}
    assert {"httpx", "ccxt.base.exchange"} <= loggers
    assert "X-MBX-APIKEY" in raw and "/getMe" in raw  # the lines are there...
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], API_KEY, API_SECRET):
        assert secret not in raw  # ...without the secrets
    assert "signature=" not in raw or "signature=***" in raw or "signature=%2A%2A%2A" in raw
    for record in _records(tmp_path / "market-data.log"):
        validate_record(record)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_uvicorn_logs_come_out_as_our_record(tmp_path: Path) -> None:
    """A real uvicorn server under uvicorn_log_config() writes schema-valid records, no ANSI colour."""
    port = _free_port()
    code = f"""
        import uvicorn
        from crypto_observability.shared.logging_config import uvicorn_log_config

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({{"type": "http.response.start", "status": 200, "headers": []}})
            await send({{"type": "http.response.body", "body": b"ok"}})

        uvicorn.run(app, host="127.0.0.1", port={port}, log_config=uvicorn_log_config("market-data", access_log=True))
    """
    env = {**os.environ, "LOG_DIR": str(tmp_path), "LOG_CONSOLE": "false", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    conn.recv(100)
                break
            except OSError:
                time.sleep(0.05)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert err.strip() == "", err
    records = _records(tmp_path / "market-data.log")
    for record in records:
        validate_record(record)
        assert "color_message" not in record["context"]  # type: ignore[operator]
        assert "\x1b[" not in record["message"]  # type: ignore[operator]
    messages = [r["message"] for r in records]
    assert any("Uvicorn running on" in str(m) for m in messages)
    assert any('"GET /x HTTP/1.1" 200' in str(m) for m in messages)
    assert {r.get("logger") for r in records} >= {"uvicorn.error", "uvicorn.access"}


@pytest.mark.parametrize(("level", "expected"), [
    ("DEBUG", {("uvicorn.error", "INFO"), ("uvicorn.error", "WARNING"), ("httpx", "DEBUG")}),
    ("WARNING", {("uvicorn.error", "WARNING")}),
])
def test_uvicorn_log_config_follows_log_level(tmp_path: Path, level: str, expected: set[tuple[str, str]]) -> None:
    """market-data's own start-up (setup, then uvicorn_log_config()) honours LOG_LEVEL for uvicorn and libraries."""
    _run("""
        import logging.config
        from crypto_observability.shared.logging_config import setup_service_logging, uvicorn_log_config
        setup_service_logging("market-data", "main")
        logging.config.dictConfig(uvicorn_log_config("market-data"))
        logging.getLogger("uvicorn.error").info("Uvicorn running")
        logging.getLogger("uvicorn.error").warning("slow start")
        logging.getLogger("httpx").debug("connect_tcp.started")
    """, tmp_path, env={"LOG_LEVEL": level})
    assert {(r["logger"], r["level"]) for r in _records(tmp_path / "market-data.log")} == expected
