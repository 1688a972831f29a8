"""Logging never raises into its caller: whatever stdout is, whatever a field is called, whatever a value does."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from crypto_observability.shared.logging_config import ensure_pipeline, setup_service_logging, shutdown_logging
from crypto_observability.shared.metadata import Metadata
from crypto_observability.shared.redaction import Redactor
from crypto_observability.shared.render import Entry, RecordBuilder
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs
from crypto_observability.shared.writer import LogWriter, Reporter


class _WriteOnly:
    """A stdout replacement with write() and nothing else (some IDEs, some daemons)."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def _closed() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize("kind", ["text stream", "write only", "None", "closed"])
def test_setup_works_whatever_stdout_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """Jupyter/redirect_stdout text streams, objects without isatty(), None and closed stdout: the line reaches
    the file, and stdout too when it can take text."""
    stdout: Any = {"text stream": io.StringIO(), "write only": _WriteOnly(), "None": None, "closed": _closed()}[kind]
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    shutdown_logging()
    try:
        settings = LogSettings.from_env({"LOG_DIR": str(tmp_path), "MONITORING_ENABLED": "false"})
        ensure_pipeline(settings, reporter=Reporter(io.StringIO()))
        setup_service_logging("market-data", "notebook").info("hello from a notebook")
    finally:
        shutdown_logging()
    (record,) = [orjson.loads(line) for line in (tmp_path / "market-data.log").read_bytes().splitlines()]
    assert record["message"] == "hello from a notebook"
    if kind == "text stream":
        assert orjson.loads(stdout.getvalue())["message"] == "hello from a notebook"
    elif kind == "write only":
        assert orjson.loads(stdout.text)["message"] == "hello from a notebook"


def test_field_names_are_data_even_when_they_clash() -> None:
    """message= as a field, and extra= names the LogRecord reserves, are kept in context instead of raising."""
    with capture_logs() as logs:
        slog = create_structured_logger("market-data", "fields")
        for method in (slog.debug, slog.info, slog.warning, slog.error, slog.critical):
            method("the message", message="a field called message")
        logger = setup_service_logging("market-data", "stdlib")
        logger.info("stdlib", extra={"message": "m", "args": [1], "msg": "x", "context": {"symbol": "BTC"}})
        logger.info("only a clash", extra={"levelname": "custom"})
    *structured, stdlib, clash = logs.records
    assert [r["context"] for r in structured] == [{"message": "a field called message"}] * 5
    assert {r["message"] for r in structured} == {"the message"}
    assert stdlib["message"] == "stdlib"
    assert stdlib["context"] == {"symbol": "BTC", "message": "m", "args": [1], "msg": "x"}
    assert (clash["level"], clash["context"]) == ("INFO", {"levelname": "custom"})


class _BadRepr(int):
    """A number (so redaction passes it through) whose repr raises."""

    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


class _Output:
    def __init__(self, fail_first: int = 0) -> None:
        self.data = bytearray()
        self._fail = fail_first

    def write(self, data: bytes) -> None:
        if self._fail:
            self._fail -= 1
            raise RuntimeError("an output that raises")
        self.data += data

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _entry(message: str, **context: Any) -> Entry:
    return Entry(1736937000.0, 20, "svc", "m", message, context, {})


def test_a_value_whose_repr_raises_does_not_kill_the_console_writer() -> None:
    """In console format, a value whose repr raises still reaches the file; every later line still arrives."""
    console, output, said = io.BytesIO(), _Output(), io.StringIO()
    builder = RecordBuilder(Metadata(None, None, "development"), Redactor(user_salt="s"), lambda: None)
    writer = LogWriter(builder, console=console, console_format="console", file_factory=lambda _: output,
                       reporter=Reporter(said))
    writer.submit(_entry("odd value", value=_BadRepr(7)))
    writer.submit(_entry("next line"))
    assert writer.flush(10)
    writer.close()
    messages = [orjson.loads(line)["message"] for line in bytes(output.data).splitlines()]
    assert messages == ["odd value", "next line"]
    assert b"next line" in console.getvalue()


def test_a_writer_that_fails_is_restarted_and_says_so_once() -> None:
    """An output that raises costs its batch, said once on stderr; the writer goes on with the next lines."""
    output, said = _Output(fail_first=2), io.StringIO()
    builder = RecordBuilder(Metadata(None, None, "development"), Redactor(user_salt="s"), lambda: None)
    writer = LogWriter(builder, console=None, file_factory=lambda _: output, reporter=Reporter(said))
    for n in range(3):
        writer.submit(_entry(f"line {n}"))
        writer.flush(10)
    writer.close()
    assert [orjson.loads(line)["message"] for line in bytes(output.data).splitlines()] == ["line 2"]
    assert said.getvalue().count("restarted") == 1


def test_stdlib_names_survive_a_reserved_extra_on_a_module_logger() -> None:
    """logging.getLogger(__name__) made after setup takes extra={'message': ...} too."""
    with capture_logs() as logs:
        logging.getLogger("services.some_module.after_setup").warning("w", extra={"message": "m"})
    assert logs.records[-1]["context"] == {"message": "m"}
