"""The process-wide logging pipeline: settings, metadata, redaction, sampler and writer.

One per process, created by the first setup_service_logging() call; later calls for other
modules or services reuse it, so handlers and lines are never duplicated.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import partial
from operator import attrgetter
from typing import Any

from . import context as _context
from .console import console_output
from .metadata import Metadata, detect_metadata
from .performance import PerformanceSampler
from .redaction import Redactor, secrets_from_environment
from .render import Entry, RecordBuilder
from .settings import LogSettings
from .writer import LineOutput, LogWriter, Reporter, file_factory_for

_SNAPSHOT = attrgetter("snapshot")  # read per record without a Python frame


def _no_performance() -> None:
    """The performance block when MONITORING_ENABLED=false: absent."""
    return None


class Pipeline:
    """Routes stdlib records to services and owns the writer every record goes through."""

    def __init__(self, settings: LogSettings, *, console: Any = None, metadata: Metadata | None = None,
                 file_factory: Any = None, reporter: Reporter | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.metadata = metadata or detect_metadata(settings.environment, settings.git_commit)
        self.redactor = Redactor(user_salt=settings.user_salt, known_secrets=secrets_from_environment(self.environ))
        self.sampler = PerformanceSampler() if settings.monitoring else None
        if self.sampler is not None:
            self.sampler.start()
        self.reporter = reporter or Reporter()
        self.default_service: str | None = None
        self._routes: dict[str, tuple[str, str]] = {}
        if file_factory is None and settings.file:
            file_factory = file_factory_for(
                settings.log_dir, max_bytes=settings.max_bytes, max_age_s=settings.max_age_s,
                backup_count=settings.backup_count, on_error=self.reporter.say)  # each outage reports itself once
        stream = console if console is not None else (console_output(sys.stdout) if settings.console else None)
        if settings.console and stream is None:
            self.reporter.problem("console", "stdout is missing or closed; log lines go to the files only")
        performance = _no_performance if self.sampler is None else partial(_SNAPSHOT, self.sampler)
        builder = RecordBuilder(self.metadata, self.redactor, performance)
        self.writer = LogWriter(builder, console=stream if settings.console else None,
                                console_format=settings.format, file_factory=file_factory, reporter=self.reporter)
        self.submit = self.writer.submit
        _context.set_user_masker(self.redactor.mask_user)

    def register(self, logger_name: str, service: str, module: str) -> None:
        """Remember that records of logger_name belong to (service, module)."""
        self._routes[logger_name] = (service, module)
        if self.default_service is None:
            self.default_service = service

    def route(self, logger_name: str, module: str) -> tuple[str, str, str | None]:
        """(service, module, logger) for a stdlib record; third-party records join the first service."""
        found = self._routes.get(logger_name)
        if found is not None:
            return found[0], found[1], None
        return self.default_service or "unknown", module, logger_name

    def report(self, cause: str, text: str) -> None:
        """Tell stderr that logging itself is in trouble, counted by cause (a dropped record, say)."""
        self.reporter.count(cause, text)

    def flush(self) -> bool:
        """Block until everything queued is written."""
        return self.writer.flush()

    def close(self) -> None:
        """Write what is queued and release the files (tests and shutdown)."""
        if self.sampler is not None:
            self.sampler.stop()
        self.writer.close()
        _context.set_user_masker(None)


__all__ = ["Entry", "LineOutput", "Pipeline"]
