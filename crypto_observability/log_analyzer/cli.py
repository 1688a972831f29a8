"""``log-analyzer``: click commands, each a thin layer that loads, calls one analysis, renders it."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from crypto_observability.console import console
from crypto_observability.log_analyzer._files import open_private
from crypto_observability.log_analyzer._util import record_count
from crypto_observability.log_analyzer.cache import default_cache_dir
from crypto_observability.log_analyzer.engine import Dataset, EngineSettings, load
from crypto_observability.log_analyzer.error_patterns import FINDINGS, analyze_errors, findings
from crypto_observability.log_analyzer.errors_base import AnalyzerError, InputError
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.schema import ERRORS_COLUMNS
from crypto_observability.log_analyzer.sources import resolve_inputs
from crypto_observability.log_analyzer.store.cli_option import check_one_input, source_option

if TYPE_CHECKING:
    from rich.console import Console

PROGRESS_BYTES = 64 << 20


def _console(stderr: bool = False) -> Console:
    """Return a rich console (rich is imported only when something is drawn: JSON output never needs it)."""
    return console(stderr)


def _render(name: str, console: Console, *args: Any) -> None:
    """Call ``render.<name>(console, *args)``, importing the rich-based renderers on first use."""
    getattr(importlib.import_module("crypto_observability.log_analyzer.render"), name)(console, *args)


def _malformed(ds: Dataset, lines: list[dict[str, Any]]) -> None:
    if ds.malformed_count:
        _render("render_malformed", _console(stderr=True), ds.malformed_count, lines)
    if ds.notes:
        _render("render_notes", _console(stderr=True), ds.notes)


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the input, filter, engine and format options every subcommand shares."""
    decorators = [
        click.argument("paths", nargs=-1),
        click.option("--since", help="Keep records from this time: 30m, 24h, 7d or ISO 8601."),
        click.option("--until", help="Keep records before this time (same forms as --since)."),
        click.option("--service", "services", multiple=True, help="Keep this service (repeatable)."),
        click.option("--level", "levels", multiple=True, help="Keep this level; LEVEL+ for it and above."),
        click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True),
        click.option("--cache-dir", type=click.Path(path_type=Path), help="Cache of rotated files, parsed once "
                     "[default: ~/.cache/log-analyzer]."),
        click.option("--no-cache", is_flag=True, help="Read every file afresh; write no cache."),
        click.option("--memory-limit", default="1GB", show_default=True, help="DuckDB memory limit."),
        click.option("--threads", type=click.IntRange(1, 64), default=None, help="DuckDB threads."),
        source_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _progress(paths: tuple[str, ...], stack: ExitStack) -> Callable[[int], None] | None:
    """A bar over the input's bytes on a terminal, moving within each file as it is read; None on a pipe."""
    if not sys.stderr.isatty():
        return None
    total = sum(f.size for f in resolve_inputs(paths))
    if total < PROGRESS_BYTES:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    console = _console(stderr=True)
    bar = stack.enter_context(Progress("reading logs", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                       console=console, transient=True))
    task = bar.add_task("read", total=total)
    return lambda done: bar.advance(task, done)


def _stages(stack: ExitStack) -> Callable[[str], None] | None:
    """Return a callback naming the store's stage on a spinner (on a terminal only)."""
    if not sys.stderr.isatty():
        return None
    status = stack.enter_context(_console(stderr=True).status("reading the store"))
    return lambda stage: status.update(f"reading the store: {stage}")


def _dataset(opts: dict[str, Any], stack: ExitStack, columns: tuple[str, ...] | None = None,
             problems_only: bool = False) -> Dataset:
    check_one_input(opts["source"], opts["paths"])
    filters = Filters.parse(opts["since"], opts["until"], opts["services"], opts["levels"])
    settings = EngineSettings(memory_limit=opts["memory_limit"], **({"threads": opts["threads"]}
                                                                     if opts["threads"] else {}))
    if opts["source"]:
        from crypto_observability.log_analyzer.store.dataset import (
            load_store,  # the store's driver only when a store is read
        )

        logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())  # its failure is our one Error line
        ds = load_store(opts["source"], filters, _stages(stack), problems_only=problems_only, settings=settings)
        stack.callback(ds.close)
        return ds
    paths = tuple(opts["paths"]) or (os.environ.get("LOG_DIR", "logs"),)
    cache_dir = None if opts["no_cache"] else (opts["cache_dir"] or default_cache_dir())
    ds = load(paths, filters, cache_dir, settings, _progress(paths, stack), columns, problems_only)
    stack.callback(ds.close)
    return ds


def _emit(opts: dict[str, Any], ds: Dataset, data: dict[str, Any], renderer: str) -> None:
    if opts["fmt"] == "json":
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
    else:
        _render(renderer, _console(), data)
    _malformed(ds, [m.to_dict() for m in ds.malformed])


FINDINGS_EXIT = 1  # like jq -e and amtool: the output is printed, the exit code says there was a finding


def _fail(reason: str) -> None:
    """Say on stderr why a --fail-* option fired and exit FINDINGS_EXIT (errors in use exit 2)."""
    _console(stderr=True).print(f"failing: {reason}", markup=False, highlight=False)
    click.get_current_context().exit(FINDINGS_EXIT)


def _fail_under(opts: dict[str, Any], health: dict[str, Any]) -> None:
    threshold = opts["fail_under"]
    if threshold is not None and (health["score"] is None or health["score"] < threshold):
        _fail(f"health score {health['score']} is below --fail-under {threshold:g}")


def _something_to_analyse(ds: Dataset) -> None:
    """Raise InputError when no record survived parsing and the filters: a score of nothing is no score."""
    if not record_count(ds):
        _malformed(ds, [m.to_dict() for m in ds.malformed])
        skipped = f"; {ds.malformed_count} malformed line(s) skipped" if ds.malformed_count else ""
        raise InputError(f"nothing to analyse: no log records in the input after the filters{skipped}")


_FAIL_UNDER = click.option("--fail-under", type=click.FloatRange(0, 100), default=None, metavar="SCORE",
                           help=f"Exit {FINDINGS_EXIT} when the overall health score is below SCORE (cron, CI).")


def _reading(columns: tuple[str, ...] | None,
             problems_only: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Turn ``func(ds, opts)`` into a command body that loads ``columns`` (None: all), reports errors."""
    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def wrapper(**opts: Any) -> None:
            try:
                with ExitStack() as stack:
                    ds = _dataset(opts, stack, columns, problems_only)
                    func(ds, opts)
            except AnalyzerError as exc:
                error = click.ClickException(str(exc))
                error.exit_code = exc.exit_code
                raise error from exc
        return wrapper
    return decorate


_command = _reading(None)


class _LazyGroup(click.Group):
    """A group importing some commands only when they are named or listed: a report starts without loading the
    search and store modules it does not use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, attribute = self.lazy[name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, lazy={
    "search": "crypto_observability.log_analyzer.search_cli:search_command",  # the line-level commands
    "trace": "crypto_observability.log_analyzer.search_cli:trace_command",
    "clickhouse": "crypto_observability.log_analyzer.cli_store:clickhouse",  # init|load|status
})
@click.version_option(package_name="crypto-assistant-observability", prog_name="log-analyzer")
def main() -> None:
    """Analyse crypto-assistant JSON logs: what is broken, since when, for whom, on which exchange."""


@main.command()
@_options
@click.option("--top", default=25, show_default=True, help="How many patterns to list.")
@click.option("--fail-on", "fail_on", multiple=True, type=click.Choice(FINDINGS),
              help=f"Exit {FINDINGS_EXIT} when a listed pattern is new (seen only in the last window), spiking, "
                   "rising, or any pattern at all (repeatable).")
@_reading(ERRORS_COLUMNS, problems_only=True)  # only what error patterns use: a cheaper read, no cache write
def errors(ds: Dataset, opts: dict[str, Any]) -> None:
    """Error patterns: templates, counts, trend, spikes, services affected."""
    result = analyze_errors(ds, top=opts["top"])
    _emit(opts, ds, result, "render_errors")
    found = findings(result["patterns"], opts["fail_on"])
    if found:
        _fail(f"{len(found)} pattern(s) matched --fail-on {','.join(opts['fail_on'])}: {found[0]['template']!r}"
              + (" ..." if len(found) > 1 else ""))


@main.command()
@_options
@_command
def performance(ds: Dataset, opts: dict[str, Any]) -> None:
    """Latency percentiles, success rates, cache, error rates, resources and incidents."""
    from crypto_observability.log_analyzer.performance import (
        analyze_performance,  # each command imports only its analysis
    )
    _emit(opts, ds, analyze_performance(ds), "render_performance")


@main.command()
@_options
@click.option("--top", default=10, show_default=True, help="How many journeys to list.")
@click.option("--slow-ms", type=float, default=None, help="Slow threshold [default: p95 of durations].")
@_command
def journeys(ds: Dataset, opts: dict[str, Any]) -> None:
    """User journeys by request_id across services: slowest, failed, slowest step."""
    from crypto_observability.log_analyzer.journeys import analyze_journeys
    _emit(opts, ds, analyze_journeys(ds, top=opts["top"], slow_ms=opts["slow_ms"]), "render_journeys")


@main.command()
@_options
@_FAIL_UNDER
@_command
def health(ds: Dataset, opts: dict[str, Any]) -> None:
    """Health score 0-100 per service and overall, with its breakdown."""
    from crypto_observability.log_analyzer.health import analyze_health
    _something_to_analyse(ds)
    result = analyze_health(ds)
    _emit(opts, ds, result, "render_health")
    _fail_under(opts, result)


@main.command()
@_options
@_command
def exchanges(ds: Dataset, opts: dict[str, Any]) -> None:
    """Exchange comparison: success rate, latency, rate limits, errors, data quality; ranked."""
    from crypto_observability.log_analyzer.exchanges import analyze_exchanges
    _emit(opts, ds, analyze_exchanges(ds), "render_exchanges")


@main.command()
@_options
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the self-contained HTML report here.")
@_FAIL_UNDER
@_command
def report(ds: Dataset, opts: dict[str, Any]) -> None:
    """Everything: the dashboard as tables or one JSON document, optionally an HTML file."""
    from crypto_observability.log_analyzer.dashboard import build_dashboard
    from crypto_observability.log_analyzer.html_report import write_html
    _something_to_analyse(ds)
    doc = build_dashboard(ds)
    if opts["html_path"]:
        write_html(doc, opts["html_path"])
        _console(stderr=True).print(f"HTML report: {opts['html_path']}")
    _emit(opts, ds, doc, "render_report")
    _fail_under(opts, doc["health"])


@main.command()
@_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for one CSV per table (and dashboard.json).")
@_command
def export(ds: Dataset, opts: dict[str, Any]) -> None:
    """Write every table as CSV, plus the dashboard JSON document."""
    from crypto_observability.log_analyzer.dashboard import build_dashboard, describe_input
    from crypto_observability.log_analyzer.export import export_csv
    doc = build_dashboard(ds)
    written = export_csv(doc, opts["out_dir"])
    with open_private(opts["out_dir"] / "dashboard.json", "wb") as handle:  # 0640 like the CSVs
        handle.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    _console(stderr=True).print(f"wrote {len(written)} CSV files and dashboard.json to {opts['out_dir']}")
    _malformed(ds, describe_input(ds)["malformed"]["lines"])

