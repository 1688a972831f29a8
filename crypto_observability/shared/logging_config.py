"""One line gives a service structured logs: setup_service_logging(service, module).

Reads the LOG_* settings once, installs one handler on the root logger (so every
third-party library logs our record too) and returns a stdlib logger for the module.
Also builds the dictConfig under which uvicorn's own logs come out as our record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ._exit_hooks import install_exit_hooks
from .handler import ServiceLogHandler, accept_any_extra_name
from .pipeline import Pipeline
from .settings import LogSettings

_lock = threading.RLock()
_pipeline: Pipeline | None = None
_handler: ServiceLogHandler | None = None
_hooks_installed = False


def get_pipeline() -> Pipeline | None:
    """The process's pipeline, or None before the first setup."""
    return _pipeline


def ensure_pipeline(settings: LogSettings | None = None, **pipeline_options: Any) -> Pipeline:
    """Create the process pipeline and root handler once; later calls return the same one."""
    global _pipeline, _handler, _hooks_installed
    with _lock:
        if _pipeline is not None:
            return _pipeline
        settings = settings or LogSettings.from_env()
        _pipeline = Pipeline(settings, **pipeline_options)
        _handler = ServiceLogHandler(_pipeline)
        root = logging.getLogger()
        for existing in list(root.handlers):  # plain stream handlers would print every line twice
            if type(existing) is logging.StreamHandler:
                root.removeHandler(existing)
        root.addHandler(_handler)
        root.setLevel(settings.level)
        accept_any_extra_name()
        if not _hooks_installed:
            install_exit_hooks(get_pipeline)
            _hooks_installed = True
        return _pipeline


def setup_service_logging(service: str, module: str, *, settings: LogSettings | None = None) -> logging.Logger:
    """Give a module of a service a stdlib logger whose records are our JSON records."""
    if not service or not module:
        raise ValueError("setup_service_logging needs a service name and a module name, e.g. "
                         "setup_service_logging('market-data', 'unified_oi_aggregator')")
    pipeline = ensure_pipeline(settings)
    name = f"{service}.{module}"
    pipeline.register(name, service, module)
    logger = logging.getLogger(name)
    accept_any_extra_name(logger)
    logger.setLevel(pipeline.settings.level)
    return logger


def shutdown_logging() -> None:
    """Write everything queued, detach the handler and forget the pipeline (tests, re-setup)."""
    global _pipeline, _handler
    with _lock:
        if _handler is not None:
            logging.getLogger().removeHandler(_handler)
        if _pipeline is not None:
            _pipeline.close()
        _pipeline, _handler = None, None


def root_handler(service: str) -> logging.Handler:
    """dictConfig factory: the pipeline's handler, set up for service if nothing was yet."""
    pipeline = ensure_pipeline()
    if pipeline.default_service is None:
        pipeline.default_service = service
    assert _handler is not None
    return _handler


class _DropLoggedAsgiErrors(logging.Filter):
    """uvicorn logs 'Exception in ASGI application' for errors our middleware already logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and exc.__dict__.get("_logged_by_request_middleware"))


class _DropColorMessage(logging.Filter):
    """uvicorn puts an ANSI-coloured copy of each message in extra; keep it out of the JSON."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def uvicorn_log_config(service: str, level: str | None = None, *, access_log: bool = False,
                       environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A dictConfig for uvicorn (log_config=...) under which its logs come out as our record.

    The level is `level`, else LOG_LEVEL (the running pipeline's, or read from environ): uvicorn's
    loggers and the root logger both follow it, so DEBUG lets library DEBUG lines through and
    WARNING drops uvicorn's INFO lines.
    """
    if level is None:
        pipeline = _pipeline if environ is None else None
        settings = pipeline.settings if pipeline is not None else LogSettings.from_env(environ)
        level = logging.getLevelName(settings.level)
    chosen = level.upper()
    logger = {"level": chosen, "handlers": [], "propagate": True, "filters": ["drop_color_message"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"drop_color_message": {"()": _DropColorMessage},
                    "drop_logged_asgi_errors": {"()": _DropLoggedAsgiErrors}},
        "handlers": {"service": {"()": root_handler, "service": service, "filters": ["drop_color_message"]}},
        "root": {"level": chosen, "handlers": ["service"]},
        "loggers": {
            "uvicorn": logger,
            "uvicorn.error": {**logger, "filters": ["drop_color_message", "drop_logged_asgi_errors"]},
            "uvicorn.access": {**logger, "level": chosen if access_log else "WARNING"},
        },
    }
