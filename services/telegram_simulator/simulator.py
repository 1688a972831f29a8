"""TelegramSimulator: a loopback Bot API server plus the users who talk to the bot, as one async object."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

from aiohttp import web

from .api import BotApi
from .chats import ChatStore
from .faults import FaultPlan
from .server import TOKEN_FORMAT, build_app
from .traffic import TrafficReport, drive_traffic
from .updates import UpdateQueue
from .users import SimulatedUser
from .webhook_delivery import DEFAULT_RETRY_DELAYS, WebhookDeliverer

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:SIMULATED-telegram-token"
CALL_LOG_SIZE = 10_000


class TelegramSimulator:
    """Stands in for api.telegram.org on 127.0.0.1; `async with` starts it (port 0 by default)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "CryptoAssistantSimBot",
        bot_first_name: str = "Crypto Assistant",
        clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        if not TOKEN_FORMAT.fullmatch(token):
            raise ValueError(f"token {token[:12]!r}... must look like '<digits>:<letters, digits, _ or ->'")
        self.token = token
        self.host, self.port = host, port
        self.clock = clock
        self.bot_user = _bot_user(int(token.split(":", 1)[0]), bot_first_name, bot_username)
        self.queue = UpdateQueue(first_update_id)
        self.chats = ChatStore(self.bot_user, clock)
        self.api = BotApi(self.bot_user, self.queue, self.chats)
        self.faults = FaultPlan()
        self.calls: collections.deque[dict[str, Any]] = collections.deque(maxlen=CALL_LOG_SIZE)
        self._deliverer = WebhookDeliverer(self.api.webhook, self.queue, clock, webhook_retry_delays)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.traffic: dict[str, Any] = {"state": "idle"}  # the latest start_traffic run and its report

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind the server (the real port is in self.port afterwards) and start webhook delivery."""
        self._runner = web.AppRunner(
            build_app(self), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.spawn(self._deliverer.run())
        log.info("telegram simulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Release long polls, stop background tasks and close the server."""
        self.queue.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a background coroutine owned (and cancelled at stop) by the simulator."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        return task

    @property
    def server_url(self) -> str:
        """http://127.0.0.1:PORT, the root of the admin endpoints."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The value for Application.builder().base_url(...): PTB appends the token and method."""
        return f"{self.server_url}/bot"

    @property
    def api_url(self) -> str:
        """The full method prefix, http://127.0.0.1:PORT/bot<TOKEN>/."""
        return f"{self.base_url}{self.token}/"

    # -- simulated users ---------------------------------------------------------------------
    def add_user(self, user: SimulatedUser) -> None:
        """Open a user's chat without sending anything (the bot may then message them)."""
        self.chats.register(user)

    def send_text(self, user: SimulatedUser, text: str) -> dict[str, Any]:
        """Have a user type text to the bot; return the queued Update."""
        return self.queue.push({"message": self.chats.user_message(user, text)})

    def send_command(self, user: SimulatedUser, text: str) -> dict[str, Any]:
        """Have a user send a command such as "/price BTC"; return the queued Update."""
        if not text.startswith("/"):
            raise ValueError(f"a command must start with '/', got {text!r}; use send_text for plain text")
        return self.send_text(user, text)

    def press_button(self, user: SimulatedUser, message_id: int, data: str) -> dict[str, Any]:
        """Have a user press an inline button under one of the bot's messages; return the Update."""
        message = self.chats.find(user.id, message_id, "message not found")
        return self.queue.push({"callback_query": self.chats.callback_query(user, message, data)})

    def messages_for(self, user_id: int) -> list[dict[str, Any]]:
        """Everything the bot sent to this user, oldest first (edits applied)."""
        return self.chats.messages_for(user_id)

    async def wait_for_reply(
        self, user_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent this user at least count messages in total; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(messages := self.messages_for(user_id)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"user {user_id} received {len(messages)} message(s) within {timeout}s, expected {count}"
                )
            await self.queue.wait_changed(remaining)
        return messages

    def start_traffic(
        self,
        users: Sequence[SimulatedUser],
        duration_s: float,
        rate_per_s: float,
        seed: int,
        delay_s: float = 0.0,
        on_done: Callable[[TrafficReport], None] | None = None,
    ) -> asyncio.Task[None]:
        """Play drive_traffic in the background; self.traffic tracks its state and final report."""
        if self.traffic["state"] == "running":
            raise RuntimeError("traffic is already running; wait for it to finish")
        for user in users:
            self.add_user(user)
        self.traffic = {"state": "running"}

        async def run() -> None:
            try:
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
                bot = self.bot_user["username"]
                report = await drive_traffic(self, users, duration_s, rate_per_s, seed, bot_username=bot)
            except Exception as exc:  # reported through self.traffic and the log, never lost
                self.traffic = {"state": "failed", "error": repr(exc)}
                log.exception("simulated traffic failed")
                return
            self.traffic = {"state": "finished", "report": report.to_dict()}
            if on_done is not None:
                on_done(report)

        return self.spawn(run())

    # -- faults and inspection ---------------------------------------------------------------
    def inject_429(self, retry_after: int = 1, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count Bot API calls (of methods, or any) answer 429 Too Many Requests."""
        self.faults.inject_429(retry_after, count, methods)

    def inject_5xx(self, status: int = 502, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count Bot API calls (of methods, or any) answer a 5xx server error."""
        self.faults.inject_5xx(status, count, methods)

    def webhook_info(self) -> dict[str, Any]:
        """The WebhookInfo getWebhookInfo would answer, plus the delivery log."""
        info = self.api.webhook.info(len(self.queue.pending))
        return {**info, "deliveries": list(self.api.webhook.deliveries)}

    def record_call(self, method: str, params: dict[str, Any], status: int) -> None:
        """Remember one Bot API call, for tests and the admin call log."""
        self.calls.append({"method": method, "params": params, "status": status, "at": self.clock()})
        self.queue.notify()

    def stats(self) -> dict[str, Any]:
        """A summary for demos: updates, replies, chats and Bot API calls by method and status."""
        by_method: dict[str, dict[str, int]] = {}
        for call in self.calls:
            statuses = by_method.setdefault(call["method"], {})
            statuses[str(call["status"])] = statuses.get(str(call["status"]), 0) + 1
        sent = self.chats.all_messages()
        return {
            "updates_queued": self.queue.issued,
            "updates_pending": len(self.queue.pending),
            "messages_sent": sum(len(m) for m in sent.values()),
            "chats_answered": sum(1 for m in sent.values() if m),
            "calls": by_method,
            "faults_armed": self.faults.armed,
        }

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """The recorded calls of one method (case-insensitive), oldest first."""
        return [c for c in self.calls if c["method"].lower() == method.lower()]


def _bot_user(bot_id: int, first_name: str, username: str) -> dict[str, Any]:
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
