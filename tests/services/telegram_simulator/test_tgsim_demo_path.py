"""The demo's path: the simulator as a subprocess with traffic, a real PTB bot answering every update."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "777:demo-path-token"


async def answer_everything(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to any message, as the real bot answers commands, refusals and chatter alike."""
    assert update.effective_message is not None
    await update.effective_message.reply_text("noted")


async def read_event(stream: asyncio.StreamReader) -> dict[str, Any]:
    """Read the process's next JSON line."""
    return json.loads(await asyncio.wait_for(stream.readline(), 15))  # type: ignore[no-any-return]


async def test_subprocess_traffic_is_all_answered() -> None:
    """Every update the traffic produces reaches the bot once and every user gets their replies."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.telegram_simulator", "--token", TOKEN, "--traffic", "1s",
        "--traffic-delay", "200ms", "--rate", "8", "--users", "6", "--seed", "4", "--log-level", "WARNING",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        ready = await read_event(proc.stdout)
        app = ApplicationBuilder().token(TOKEN).base_url(ready["base_url"]).build()
        app.add_handler(MessageHandler(filters.ALL, answer_everything))
        async with app, httpx.AsyncClient(base_url=ready["server_url"]) as admin:
            await app.start()
            await app.updater.start_polling(timeout=1, poll_interval=0)
            finished = await read_event(proc.stdout)
            for user_id, count in finished["by_user"].items():
                query = {"chat_id": user_id, "count": count, "timeout": 10}
                assert (await admin.get("/_admin/wait_for_reply", params=query, timeout=15)).status_code == 200
            stats = (await admin.get("/_admin/stats")).json()["result"]
            await app.updater.stop()
            await app.stop()
            replies = (await admin.get("/_admin/messages")).json()["result"]
    finally:
        proc.terminate()
        await proc.wait()
    assert finished["event"] == "traffic_finished"
    assert stats["messages_sent"] == stats["updates_queued"] == finished["sent"]
    assert {int(chat): len(ms) for chat, ms in replies.items()} == {int(u): n for u, n in finished["by_user"].items()}
