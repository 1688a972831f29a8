"""``log-analyzer clickhouse``: create the central store's schema, load log files into it, say what it holds."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import orjson

from crypto_observability.log_analyzer.errors_base import AnalyzerError, OptionError
from crypto_observability.log_analyzer.sources import resolve_inputs
from crypto_observability.log_analyzer.store.connection import StoreAddress, connect, first_line, parse_store_url
from crypto_observability.log_analyzer.store.loader import BATCH_LINES, Loader
from crypto_observability.log_analyzer.store.migrations import DEFAULT_TTL_DAYS, applied_versions, available, migrate
from crypto_observability.log_analyzer.store.status import store_status

_URL = click.option("--url", envvar="LOG_STORE_URL", required=True, show_envvar=True,
                    help="clickhouse://user@host:8123/db (password from CLICKHOUSE_PASSWORD) or chdb:///path.")
_INIT_HINT = "run log-analyzer clickhouse init --url {}"
_NO_SCHEMA_CODES = (60, 81)  # UNKNOWN_TABLE, UNKNOWN_DATABASE


@contextmanager
def _store(url: str, *, create: bool = False) -> Iterator[tuple[Any, StoreAddress]]:
    """Open the store (``create``: make a missing embedded one), turning every error into one line and its exit code.

    The analyzer's errors keep their message and exit code; the engine's (a query the store refused, a server that
    does not answer) become the first line of their message, exit 2, never a traceback.
    """
    address: StoreAddress | None = None
    try:
        address = parse_store_url(url)
        client = connect(address, create=create)
        try:
            yield client, address
        finally:
            client.close()
    except AnalyzerError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = exc.exit_code
        raise error from exc
    except Exception as exc:
        if address is None or not _engine_error(exc):
            raise
        error = click.ClickException(_engine_message(exc, address))
        error.exit_code = 2
        raise error from exc


def _engine_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the ClickHouse driver or the embedded engine (not a bug of the analyzer's)."""
    from clickhouse_connect.driver.exceptions import ClickHouseError

    return isinstance(exc, ClickHouseError) or type(exc).__module__.split(".")[0] in ("chdb", "clickhouse_connect")


def _engine_message(exc: BaseException, address: StoreAddress) -> str:
    if getattr(exc, "code", None) in _NO_SCHEMA_CODES:
        return f"the store {address} has no log store schema ({first_line(exc)}): {_INIT_HINT.format(address.url)}"
    return f"the store {address} refused: {first_line(exc)}"


def _require_schema(client: Any, address: StoreAddress) -> None:
    """Refuse to load into a store without the newest schema, saying how to create or migrate it."""
    versions = applied_versions(client, address.database)
    newest = max(m.version for m in available())
    if max(versions, default=0) < newest:
        have = f"schema version {max(versions)}" if versions else "no log store schema"
        raise OptionError(f"the store {address} has {have}, load needs version {newest}: "
                          f"{_INIT_HINT.format(address.url)}")


def _print_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


@click.group()
def clickhouse() -> None:
    """The central ClickHouse store: create its schema, load log files into it, say what it holds."""


@clickhouse.command()
@_URL
@click.option("--ttl-days", type=click.IntRange(1), default=DEFAULT_TTL_DAYS, show_default=True,
              help="Retention of new tables (records older than this are dropped by whole days).")
def init(url: str, ttl_days: int) -> None:
    """Create the schema, or migrate it to the newest version; safe to run again."""
    with _store(url, create=True) as (client, address):
        applied = migrate(client, address.database, ttl_days)
    names = ", ".join(f"{m.version:03d} {m.name}" for m in applied) or "nothing: already at the newest version"
    click.echo(f"{address}: applied {names}")


@clickhouse.command()
@_URL
@click.argument("paths", nargs=-1, required=True)
@click.option("--batch-lines", type=click.IntRange(1), default=BATCH_LINES, show_default=True,
              help="Lines per insert.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def load(url: str, paths: tuple[str, ...], batch_lines: int, fmt: str) -> None:
    """Load log files (rotated .gz included) into the store; loading again or resuming never duplicates."""
    with _store(url) as (client, address), _progress(paths) as progress:
        _require_schema(client, address)
        result = Loader(client, address.database, batch_lines).load(paths, progress)
    if fmt == "json":
        _print_json(result.to_dict())
        return
    unreadable = sum(1 for bad in result.malformed if bad.line == 0)  # a file listed whole (always listed)
    cut = f"; {unreadable} files could not be read to their end" if unreadable else ""
    click.echo(f"{address}: {result.records} records sent from {result.lines} new lines of {result.files} files "
               f"({result.skipped_files} already loaded); {result.malformed_count - unreadable} lines were not "
               f"records{cut}")
    for bad in result.malformed[:20]:
        click.echo(f"  {bad.file}:{bad.line}: {bad.reason}", err=True)
    for held in result.held:
        click.echo(f"  {held}: held, its interrupted batch also needs a file not given now", err=True)


@clickhouse.command()
@_URL
def status(url: str) -> None:
    """Schema version, records per service, rejected lines by reason, files loaded, bytes on disk (JSON)."""
    with _store(url) as (client, address):
        _print_json(store_status(client, address.database))


@contextmanager
def _progress(paths: tuple[str, ...]) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback advancing a bar over the files' bytes on a terminal; None elsewhere."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = sum(f.size for f in resolve_inputs(paths))
    with Progress("loading", BarColumn(), DownloadColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("load", total=total)
        yield lambda done: bar.advance(task, done)
