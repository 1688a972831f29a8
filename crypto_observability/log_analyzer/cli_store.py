"""``log-analyzer clickhouse``: create the central store's schema, load log files into it, say what it holds."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import orjson

from crypto_observability.log_analyzer.errors_base import AnalyzerError
from crypto_observability.log_analyzer.sources import resolve_inputs
from crypto_observability.log_analyzer.store.connection import StoreAddress, connect, parse_store_url
from crypto_observability.log_analyzer.store.loader import BATCH_LINES, Loader
from crypto_observability.log_analyzer.store.migrations import DEFAULT_TTL_DAYS, migrate
from crypto_observability.log_analyzer.store.status import store_status

_URL = click.option("--url", envvar="LOG_STORE_URL", required=True, show_envvar=True,
                    help="clickhouse://user@host:8123/db (password from CLICKHOUSE_PASSWORD) or chdb:///path.")


@contextmanager
def _store(url: str, *, create: bool = False) -> Iterator[tuple[Any, StoreAddress]]:
    """Open the store (``create``: make a missing embedded one), turning the analyzer's errors into click's."""
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
        try:
            result = Loader(client, address.database, batch_lines).load(paths, progress)
        except AnalyzerError as exc:
            raise click.ClickException(str(exc)) from exc
    if fmt == "json":
        _print_json(result.to_dict())
        return
    click.echo(f"{address}: {result.records} records sent from {result.lines} new lines of {result.files} files "
               f"({result.skipped_files} already loaded); {result.malformed_count} lines were not records")
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
