"""ThreadedTelegramSimulator: the same simulator on its own event loop thread, for synchronous code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any, Self, TypeVar

from .simulator import TelegramSimulator
from .users import SimulatedUser

T = TypeVar("T")


class ThreadedTelegramSimulator:
    """Runs a TelegramSimulator in a background thread; every method is a blocking call."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sim: TelegramSimulator | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the loop thread and the server; return once it listens."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="telegram-simulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"telegram simulator did not start within {timeout}s")
        try:
            self._sim = self._submit(self._start_sim())
        except BaseException:
            self.stop()  # a bad argument must not leave the loop thread running
            raise

    def _run(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()
        self._loop.close()

    async def _start_sim(self) -> TelegramSimulator:
        sim = TelegramSimulator(**self._kwargs)
        await sim.start()
        return sim

    def stop(self) -> None:
        """Stop the server and the loop thread."""
        if self._loop is None or self._thread is None:
            return
        if self._sim is not None:
            self._submit(self._sim.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = self._thread = self._sim = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _require_started(self) -> None:
        if self._loop is None:
            raise RuntimeError("ThreadedTelegramSimulator is not started; call start() or use 'with'")

    def _submit(self, coro: Any, timeout: float | None = 30.0) -> Any:
        assert self._loop is not None, "callers check _require_started() before building the coroutine"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _call(self, fn: Callable[[], T]) -> T:
        self._require_started()

        async def run() -> T:
            return fn()

        return self._submit(run())  # type: ignore[no-any-return]

    @property
    def sim(self) -> TelegramSimulator:
        """The underlying simulator (touch its state only through this class's methods)."""
        if self._sim is None:
            raise RuntimeError("ThreadedTelegramSimulator is not started; call start() or use 'with'")
        return self._sim

    @property
    def token(self) -> str:
        """The one token the simulator accepts."""
        return self.sim.token

    @property
    def base_url(self) -> str:
        """The value for Application.builder().base_url(...)."""
        return self.sim.base_url

    @property
    def server_url(self) -> str:
        """http://127.0.0.1:PORT, the root of the admin endpoints."""
        return self.sim.server_url

    def send_text(self, user: SimulatedUser, text: str) -> dict[str, Any]:
        """Have a user type text to the bot; return the queued Update."""
        return self._call(lambda: self.sim.send_text(user, text))

    def send_command(self, user: SimulatedUser, text: str) -> dict[str, Any]:
        """Have a user send a command; return the queued Update."""
        return self._call(lambda: self.sim.send_command(user, text))

    def messages_for(self, user_id: int) -> list[dict[str, Any]]:
        """Everything the bot sent to this user, oldest first."""
        return self._call(lambda: self.sim.messages_for(user_id))

    def wait_for_reply(self, user_id: int, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until the bot has sent this user at least count messages; return them all."""
        return self._submit(self.sim.wait_for_reply(user_id, count, timeout), timeout + 5)  # type: ignore[no-any-return]

    def inject_429(self, retry_after: int = 1, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count Bot API calls answer 429."""
        self._call(lambda: self.sim.inject_429(retry_after, count, methods))

    def inject_5xx(self, status: int = 502, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count Bot API calls answer a 5xx."""
        self._call(lambda: self.sim.inject_5xx(status, count, methods))

    def webhook_info(self) -> dict[str, Any]:
        """The webhook configuration, last error and delivery log."""
        return self._call(self.sim.webhook_info)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """The recorded calls of one Bot API method."""
        return self._call(lambda: self.sim.calls_of(method))
