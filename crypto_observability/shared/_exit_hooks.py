"""Every way a process ends writes what it logged, and says why it ended.

atexit and SIGTERM flush (SIGTERM too when setup ran off the main thread: the handler is then
installed by the main thread at its next chance); children of multiprocessing (fork, forkserver,
Pool) end with os._exit after multiprocessing's own finalisation, which flushes; an unhandled
exception is logged as a record before the previous excepthook runs. Compression in flight is
finished at exit, within a bound.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from .context import get_context

EXIT_FINISH_S = 10.0  # how long exit may wait for a rotated file's compression to finish
CRITICAL = 50
_keep: list[Any] = []  # ctypes callbacks that must outlive the call that made them


def install_exit_hooks(pipeline_getter: Callable[[], Any]) -> None:
    """Flush at normal exit, on SIGTERM, at a multiprocessing child's end; log unhandled exceptions."""

    def flush_at_exit() -> None:
        pipeline = pipeline_getter()
        if pipeline is not None:
            pipeline.flush()
            pipeline.writer.finish(EXIT_FINISH_S)

    atexit.register(flush_at_exit)
    _flush_at_multiprocessing_exit(flush_at_exit)
    _log_unhandled_exceptions(pipeline_getter)
    if threading.current_thread() is threading.main_thread():
        _flush_on_sigterm(flush_at_exit)
    elif not _on_main_thread(lambda: _flush_on_sigterm(flush_at_exit)) and sys.__stderr__ is not None:
        sys.__stderr__.write("logging: setup ran off the main thread; SIGTERM will not flush\n")


def _flush_on_sigterm(flush: Callable[[], None]) -> None:
    """Flush on SIGTERM, then die of it as before (only when nobody else handles SIGTERM)."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            def on_sigterm(signum: int, frame: FrameType | None) -> None:
                flush()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.raise_signal(signal.SIGTERM)

            signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):
        pass


def _on_main_thread(fn: Callable[[], None]) -> bool:
    """Have the main thread run fn at its next chance (CPython's pending calls); False when not possible."""
    try:
        import ctypes

        callback_type = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

        def run(_: object) -> int:
            with contextlib.suppress(Exception):
                fn()
            return 0

        callback = callback_type(run)
        _keep.append(callback)
        add = ctypes.pythonapi.Py_AddPendingCall
        add.argtypes, add.restype = [callback_type, ctypes.c_void_p], ctypes.c_int
        return int(add(callback, None)) == 0
    except Exception:
        return False


class _Token:
    """Something multiprocessing can hold weakly for its after-fork registry."""


_TOKEN = _Token()


def _flush_at_multiprocessing_exit(flush: Callable[[], None]) -> None:
    """Register flush with multiprocessing's finalisation here and in every child it forks."""
    from multiprocessing import util

    def register(_: object = None) -> None:
        util.Finalize(None, flush, exitpriority=-100)  # after the finalizers that may still log

    register()
    util.register_after_fork(_TOKEN, register)  # a child's registry is cleared before it runs


def _log_unhandled_exceptions(pipeline_getter: Callable[[], Any]) -> None:
    """Log the exception that ends the process (or a thread) as a record, then chain to the previous hook."""
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def log(exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None, where: str) -> None:
        pipeline = pipeline_getter()
        if pipeline is None or exc is None or issubclass(exc_type, KeyboardInterrupt):
            return
        try:
            pipeline.submit((time.time(), CRITICAL, pipeline.default_service or "unknown", "unhandled",
                             f"unhandled {exc_type.__name__} {where}", None, get_context() or None,
                             (exc_type, exc, tb), None, None, None), None)
            pipeline.flush()
        except Exception:
            pass

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log(exc_type, exc, tb, "ended the process")
        previous_hook(exc_type, exc, tb)

    def thread_excepthook(args: Any) -> None:
        log(args.exc_type, args.exc_value, args.exc_traceback, f"ended thread {getattr(args.thread, 'name', '?')}")
        previous_thread_hook(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
