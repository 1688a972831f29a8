"""``log-analyzer search`` and ``log-analyzer trace``: thin click layers over ``search_files`` and ``trace``."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import click
import orjson

from crypto_observability.log_analyzer.errors_base import AnalyzerError, OptionError
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.search_files import SearchOptions, SearchStats, read_records, search
from crypto_observability.log_analyzer.search_query import SearchQuery
from crypto_observability.log_analyzer.store.cli_option import source_option


def _is_path(term: str) -> bool:
    expanded = os.path.expanduser(term)
    return os.path.exists(expanded) or bool(glob.has_magic(expanded) and glob.glob(expanded))


def split_terms(terms: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split positional arguments into paths (existing files, directories, globs that match) and query words."""
    paths = [t for t in terms if _is_path(t)]
    words = [t for t in terms if not _is_path(t)]
    return paths or [os.environ.get("LOG_DIR", "logs")], words


def use_colour(stream: IO[str], environ: dict[str, str] | None = None) -> bool:
    """Colour only a terminal, and never when ``NO_COLOR`` is set to anything (no-color.org)."""
    env = os.environ if environ is None else environ
    return bool(stream.isatty()) and not env.get("NO_COLOR")


def _cache_dir(opts: dict[str, Any]) -> Path | None:
    from crypto_observability.log_analyzer.cache import default_cache_dir

    return None if opts["no_cache"] else (opts["cache_dir"] or default_cache_dir())


def _failing(func: Callable[..., None]) -> Callable[..., None]:
    """Turn analyzer errors into click errors with their exit code."""
    def wrapper(**opts: Any) -> None:
        try:
            func(**opts)
        except AnalyzerError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from exc
    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    return wrapper


def _window_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        source_option,
        click.option("--since", help="Keep records from this time: 30m, 24h, 7d or ISO 8601."),
        click.option("--until", help="Keep records before this time (same forms as --since)."),
        click.option("--cache-dir", type=click.Path(path_type=Path), help="Cache directory; search keeps its "
                     "per-file index under <cache>/search [default: ~/.cache/log-analyzer]."),
        click.option("--no-cache", is_flag=True, help="Read every file; read and write no index."),
    ]):
        func = decorator(func)
    return func


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("terms", nargs=-1, metavar="[PATHS]... [QUERY]...")
@_window_options
@click.option("--service", "services", multiple=True, help="Keep this service (repeatable).")
@click.option("--level", "levels", multiple=True, help="Keep this level; LEVEL+ for it and above.")
@click.option("--request-id", "request_ids", multiple=True, help="Keep this request id (repeatable).")
@click.option("--user", "users", multiple=True, help="A user hash (u_...), or a raw Telegram id or username "
              "hashed with LOG_USER_SALT.")
@click.option("--event", "events", multiple=True, help="Keep this event name (repeatable).")
@click.option("--text", "texts", multiple=True, help="Free text (ASCII case ignored), even if it looks like a "
              "predicate.")
@click.option("--regex", "regexes", multiple=True, help="A Python regular expression over the record's text.")
@click.option("--reverse", is_flag=True, help="Newest first.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many matches.")
@click.option("-C", "--context", type=click.IntRange(min=0), default=0, help="Lines of the same file shown "
              "around each match.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the console line (a table with --fields); json: one record per line, for jq.")
@click.option("--fields", help="Comma-separated keys (dotted for nested: context.exchange) to show as columns.")
@click.option("--show-malformed", is_flag=True, help="List (on stderr) the unreadable lines a match could be in.")
@click.option("-f", "--follow", is_flag=True, help="Then keep printing new matching records as they are written.")
@click.option("--stats", is_flag=True, help="Print on stderr what was read and skipped.")
@_failing
def search_command(**opts: Any) -> None:
    """Records that match, oldest first, merged across services and rotated files.

    TERMS are paths (files, directories, globs; default $LOG_DIR or logs) and query words: KEY=VALUE,
    KEY!=VALUE, KEY>N, KEY<N (>=, <=), KEY~REGEX on any key (context.exchange=okx), exists:KEY,
    missing:KEY, and free text.
    """
    if opts["source"]:
        _refuse_file_options(opts, "search")
        words = list(opts["terms"])
    else:
        paths, words = split_terms(opts["terms"])
    query = SearchQuery.parse(Filters.parse(opts["since"], opts["until"], opts["services"], opts["levels"]),
                              request_ids=opts["request_ids"], users=opts["users"], events=opts["events"],
                              words=words, texts=opts["texts"], regexes=opts["regexes"])
    fields = [f.strip() for f in (opts["fields"] or "").split(",") if f.strip()]
    options = SearchOptions(reverse=opts["reverse"], limit=opts["limit"], context=opts["context"],
                            show_malformed=opts["show_malformed"], cache_dir=_cache_dir(opts))
    from crypto_observability.log_analyzer.search_output import HitWriter

    out = sys.stdout
    writer = HitWriter(out, opts["fmt"], fields, use_colour(out), opts["context"])
    if opts["source"]:
        _search_store(opts["source"], query, options, writer, opts["stats"])
        return
    stats = SearchStats()
    if opts["follow"]:
        from crypto_observability.log_analyzer.search_follow import follow

        hits = follow(paths, query, options, stats)
    else:
        hits = search(paths, query, options, stats)
    try:
        for hit in hits:
            writer.write(hit)
            if opts["follow"]:
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        _report(stats, opts["show_malformed"], opts["stats"])
    if not stats.matches:
        raise click.exceptions.Exit(1)  # like grep: nothing matched


_FILE_ONLY = {
    "follow": ("--follow", "reads files as they are written; with --source, search again with --since"),
    "context": ("-C", "shows lines of the same file; a store keeps records, not files"),
    "show_malformed": ("--show-malformed", "lists unreadable lines of files; a store never holds them "
                       "(log-analyzer clickhouse status counts the lines it rejected)"),
}


def _refuse_file_options(opts: dict[str, Any], command: str) -> None:
    """With --source, refuse path arguments and the options that only mean something for files."""
    for key, (name, why) in _FILE_ONLY.items():
        if opts.get(key):
            raise OptionError(f"{name} {why}")
    terms = list(opts["terms"])[1:] if command == "trace" else list(opts["terms"])
    paths = [t for t in terms if _is_path(t)] if command == "search" else terms
    if paths:
        raise OptionError(f"with --source the records come from the store, not files: drop {' '.join(paths)} "
                          "(or drop --source to read them; a word meant as text: --text WORD)")


def _search_store(url: str, query: SearchQuery, options: SearchOptions, writer: Any, show_stats: bool) -> None:
    """Write the store's matches; exit 1 when there are none (like grep)."""
    from crypto_observability.log_analyzer.store.search_store import StoreSearchStats, open_store, search_store

    stats = StoreSearchStats()
    try:
        with open_store(url) as (client, address):
            for hit in search_store(client, address.database, query, reverse=options.reverse, limit=options.limit,
                                    stats=stats, source=address.url):
                writer.write(hit)
    except KeyboardInterrupt:
        pass
    finally:
        if show_stats:
            sys.stderr.write(" ".join(f"{k}={v}" for k, v in stats.to_dict().items()) + "\n")
    if not stats.matches:
        raise click.exceptions.Exit(1)  # like grep: nothing matched


def _report(stats: SearchStats, show_malformed: bool, show_stats: bool) -> None:
    err = sys.stderr
    if show_malformed:
        for bad in stats.malformed:
            err.write(f"{bad.file}:{bad.line}: {bad.reason}: {bad.excerpt}\n")
    elif stats.malformed_count:
        err.write(f"{stats.malformed_count} unreadable line(s) skipped (--show-malformed lists them)\n")
    if show_stats:
        data = stats.to_dict()
        del data["malformed"]
        err.write(" ".join(f"{k}={v}" for k, v in data.items()) + "\n")


def slowest_request_id(paths: list[str], cache_dir: Path | None, source: str | None = None) -> str | None:
    """Return the request id of the slowest journey in the logs, or in the store at ``source`` (the journeys
    analysis's first), if any."""
    from crypto_observability.log_analyzer.journeys import analyze_journeys

    if source:
        from crypto_observability.log_analyzer.store.dataset import load_store

        ds = load_store(source)
    else:
        from crypto_observability.log_analyzer.engine import load

        ds = load(paths, cache_dir=cache_dir)
    try:
        slowest = analyze_journeys(ds, top=1)["slowest"]
    finally:
        ds.close()
    return str(slowest[0]["request_id"]) if slowest else None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("terms", nargs=-1, metavar="REQUEST_ID [PATHS]...")
@_window_options
@click.option("--slowest", is_flag=True, help="Trace the slowest journey (every argument is then a path; "
              "with --source, the store's slowest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_failing
def trace_command(**opts: Any) -> None:
    """One request's path across services as a timeline: steps, offsets, durations, slow step, failure.

    Each step with its service, event, offset from the start and duration; the slow step and the failure
    marked; the exchange calls it made. --slowest picks the slowest journey of the logs.
    """
    from crypto_observability.log_analyzer.trace import build_trace, render_trace_text, step_from_record

    terms = list(opts["terms"])
    if opts["source"]:
        _refuse_file_options(opts, "trace")
    if not opts["slowest"] and (not terms or not terms[0].strip()):
        raise OptionError("trace needs a REQUEST_ID (or --slowest): trace REQUEST_ID [PATHS]")
    request_id = None if opts["slowest"] else terms.pop(0)
    paths = terms or [os.environ.get("LOG_DIR", "logs")]
    if request_id is None:
        request_id = slowest_request_id(paths, _cache_dir(opts), opts["source"])
        if request_id is None:
            raise OptionError(f"no journey (records with a request_id) in {opts['source'] or ', '.join(paths)}")
    query = SearchQuery.parse(Filters.parse(opts["since"], opts["until"]), request_ids=[request_id])
    if opts["source"]:
        from crypto_observability.log_analyzer.store.search_store import open_store, store_records

        with open_store(opts["source"]) as (client, address):
            records: Iterable[dict[str, Any]] = store_records(client, address.database, query, address.url)
    else:
        records = read_records(search(paths, query, SearchOptions(cache_dir=_cache_dir(opts))))
    trace = build_trace(request_id, [step_from_record(r) for r in records])
    if opts["fmt"] == "json":
        sys.stdout.write(orjson.dumps(trace, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_trace_text(trace, use_colour(sys.stdout)))
    if not trace["found"]:
        raise click.exceptions.Exit(1)  # like grep: nothing found
