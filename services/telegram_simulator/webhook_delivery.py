"""Push pending updates to the bot's webhook, in order, retrying with back-off as Telegram does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

import aiohttp

from .updates import UpdateQueue
from .webhook_config import WebhookConfig

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDeliverer:
    """One worker: while a webhook is set, POST the oldest pending update until it is accepted."""

    def __init__(
        self,
        config: WebhookConfig,
        queue: UpdateQueue,
        clock: Callable[[], float],
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        request_timeout: float = 5.0,
    ) -> None:
        if not retry_delays:
            raise ValueError("retry_delays must hold at least one delay in seconds")
        self._config = config
        self._queue = queue
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)

    async def run(self) -> None:
        """Deliver until cancelled."""
        failures = 0
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            while not self._queue.closed:
                pending = self._queue.pending
                if not self._config.url or not pending:
                    failures = 0
                    await self._queue.wait_changed(1.0)
                    continue
                if await self._deliver(session, pending[0]):
                    failures = 0
                    continue
                await self._wait_retry(self._delays[min(failures, len(self._delays) - 1)])
                failures += 1

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        url, secret = self._config.url, self._config.secret_token
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with session.post(url, json=update, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status, failure = 0, _describe(exc)
        ok = 200 <= status < 300
        self._config.deliveries.append({"update_id": update["update_id"], "url": url, "status": status})
        if ok:
            self._queue.remove(update["update_id"])
            self._queue.notify()
            return True
        message = f"Wrong response from the webhook: {status} {_phrase(status)}" if status else failure
        self._config.last_error_date = int(self._clock())
        self._config.last_error_message = message
        log.debug("webhook delivery of update %s failed: %s", update["update_id"], message)
        return False

    async def _wait_retry(self, delay: float) -> None:
        """Wait out a back-off, cut short when the webhook is reconfigured."""
        version = self._config.version
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while (remaining := deadline - loop.time()) > 0 and self._config.version == version:
            await self._queue.wait_changed(remaining)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "Read timeout expired"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "Connection refused"
    return f"Connection failed: {type(exc).__name__}"
