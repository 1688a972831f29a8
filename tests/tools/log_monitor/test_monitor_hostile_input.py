"""Input that must not take alerting down: odd field types, future timestamps, Docker's split lines, huge lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.engine import Engine
from crypto_observability.log_monitor.monitor import Monitor, build_rules
from crypto_observability.log_monitor.notifiers import RecordingNotifier
from crypto_observability.log_monitor.records import TS_KEY, RecordParser

T0 = 1_736_937_000.0  # 2025-01-15T10:30:00Z
STAMP = "2025-01-15T10:30:00.000Z"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=4,
)
FIELD = JSON | st.sampled_from(["ERROR", "CRITICAL", "market-data", "api", "http_request", "security_event"])
RECORD = st.fixed_dictionaries(
    {
        "service": FIELD,
        "module": FIELD,
        "level": FIELD,
        "event": FIELD,
        "message": JSON,
        "context": JSON | st.fixed_dictionaries({"response_time_ms": JSON, "severity": JSON, "exchange": FIELD}),
        "error": JSON | st.fixed_dictionaries({"fingerprint": JSON, "type": JSON}),
    }
)
BY = st.sampled_from([["service"], ["service", "event"], ["service", "module"], ["level"], ["context.exchange"]])
WINDOW = st.sampled_from([7, 60, 90, 300, 3601])


def _rules(by: list[str], window: int) -> list[dict[str, Any]]:
    """One rule of every log rule type, all grouped by `by` over `window` seconds."""
    return [
        {"name": "err", "type": "error_rate", "by": by, "window": window, "min_volume": 1, "threshold": 0.01},
        {"name": "err_svc", "type": "error_rate", "service": "market-data", "by": by, "window": window},
        {"name": "pct", "type": "percentile", "by": by, "window": window, "threshold": 1, "min_count": 1},
        {"name": "pct_ev", "type": "percentile", "event": "http_request", "by": by, "window": window, "threshold": 1},
        {"name": "match", "type": "match", "where": {"level": ["ERROR", "CRITICAL"]}, "by": by, "window": window},
        {
            "name": "match_re",
            "type": "match",
            "where": {"context.severity": "high"},
            "regex": {"message": "a"},
            "by": by,
            "window": window,
        },
        {"name": "absent", "type": "absence", "services": ["market-data"], "seconds": window},
        {"name": "newfp", "type": "new_fingerprint", "hold": window},
        {"name": "hod", "type": "error_baseline", "by": by, "min_days": 1, "min_errors": 1},
    ]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(RECORD, min_size=1, max_size=6), BY, WINDOW)
def test_every_rule_type_by_and_window_survive_values_of_every_json_type(
    recs: list[dict[str, Any]], by: list[str], window: int
) -> None:
    """Any JSON value in any field, for every rule type, grouping and window: rules and engine never raise."""
    cfg = parse_config({"sources": ["x"], "rules": _rules(by, window)})
    rules = build_rules(cfg)
    parser = RecordParser()
    batch = parser.parse([orjson.dumps({"timestamp": STAMP, **r}) for r in recs])
    assert parser.parse_errors == 0
    engine = Engine(cfg, [])
    states: dict[str, dict[str, Any]] = {name: {} for name in rules}
    for step in range(2):
        now = T0 + step * window
        results = {name: rule.evaluate(batch if step == 0 else [], now, states[name]) for name, rule in rules.items()}
        engine.observe(results, now)
        engine.notify(now, [])
    orjson.dumps(states)  # the states stay committable


def _monitor(tmp_path: Path, rules: list[dict[str, Any]], clock: FakeClock, **extra: Any) -> Monitor:
    cfg = parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "app.log")],
            "start_at": "beginning",
            "rules": rules,
            **extra,
        }
    )
    return Monitor(cfg, clock=clock, notifiers={"console": RecordingNotifier()})


def _write(path: Path, *records: dict[str, Any]) -> None:
    with open(path, "ab") as f:
        for r in records:
            f.write(orjson.dumps(r) + b"\n")


def test_a_list_level_does_not_crash_an_error_rate_with_an_odd_window(tmp_path: Path) -> None:
    """`{"level": ["ERROR"]}` with a 90 s error_rate window is a record like another, not a crash loop."""
    clock = FakeClock(T0)
    m = _monitor(tmp_path, [{"name": "err", "type": "error_rate", "window": 90, "min_volume": 1}], clock)
    _write(tmp_path / "app.log", {"timestamp": STAMP, "service": "s", "level": ["ERROR"], "message": "x"})
    assert m.step() == 1
    m.close()


def test_a_future_timestamp_counts_at_the_monitors_time_and_is_reported(tmp_path: Path) -> None:
    """A CRITICAL line stamped 2099 fires a 10 s match alert that resolves; absence still fires; status counts it."""
    clock = FakeClock(T0)
    rules = [
        {"name": "crit", "type": "match", "where": {"level": "CRITICAL"}, "window": 10},
        {"name": "quiet", "type": "absence", "services": ["s"], "seconds": 60},
    ]
    m = _monitor(tmp_path, rules, clock)
    _write(tmp_path / "app.log", {"timestamp": "2099-01-01T00:00:00.000Z", "service": "s", "level": "CRITICAL"})
    m.step()
    states = {a["rule"]: a["state"] for a in m.engine.alerts.values()}
    assert states == {"crit": "firing"}
    clock.advance(30)
    m.step()
    clock.advance(60)
    m.step()
    states = {a["rule"]: a["state"] for a in m.engine.alerts.values()}
    assert states == {"crit": "resolved", "quiet": "firing"}
    st = commands.status(m.store, clock)
    assert st["future_ts"] == 1 and st["lag_s"] is not None and st["lag_s"] >= 0
    m.close()


def test_status_keeps_newest_time_and_lag_after_a_restart_without_new_lines(tmp_path: Path) -> None:
    """A restart that reads nothing new still shows the newest record's time and the lag."""
    clock = FakeClock(T0)
    m = _monitor(tmp_path, [], clock)
    _write(tmp_path / "app.log", {"timestamp": STAMP, "service": "s", "level": "INFO"})
    m.step()
    m.close()
    clock.advance(5)
    m = _monitor(tmp_path, [], clock)
    m.step()
    st = commands.status(m.store, clock)
    assert (m.selfmon["newest_ts"], st["lag_s"]) == (T0, 5.0)
    m.close()


def _docker_chunks(record: dict[str, Any], size: int = 16 * 1024) -> list[dict[str, Any]]:
    """What Docker's json-file driver writes for one long line: 16 KB pieces, the newline only on the last."""
    text = orjson.dumps(record).decode() + "\n"
    return [
        {"log": text[i : i + size], "stream": "stdout", "time": "2025-01-15T10:30:00.000000000Z"}
        for i in range(0, len(text), size)
    ]


def test_docker_split_lines_are_reassembled_across_batches_and_a_restart(tmp_path: Path) -> None:
    """A 50 KB record split by Docker into 16 KB chunks is one record, even cut by batches and a restart."""
    clock = FakeClock(T0)
    rules = [{"name": "crit", "type": "match", "where": {"level": "CRITICAL"}, "window": 60}]
    big = {"timestamp": STAMP, "service": "s", "level": "CRITICAL", "message": "x" * 50_000}
    chunks = _docker_chunks(big)
    assert len(chunks) == 4
    _write(tmp_path / "app.log", *chunks[:2])
    m = _monitor(tmp_path, rules, clock, batch_lines=1)
    m.step()
    m.step()
    m.close()  # the first half is committed, then the monitor restarts
    _write(tmp_path / "app.log", *chunks[2:], {"timestamp": STAMP, "service": "s", "level": "INFO"})
    m = _monitor(tmp_path, rules, clock, batch_lines=1)
    for _ in range(3):
        m.step()
    assert m.selfmon["parse_errors"] == 0
    assert [a["value"] for a in m.engine.alerts.values()] == [1]
    assert sum(m.selfmon["records_by_service"].values()) == 2
    m.close()


def test_docker_chunks_of_two_streams_do_not_mix() -> None:
    """Interleaved stdout and stderr chunks are joined per stream."""
    p = RecordParser()
    out = _docker_chunks({"timestamp": STAMP, "service": "a", "message": "o" * 20_000})
    err = [
        dict(c, stream="stderr") for c in _docker_chunks({"timestamp": STAMP, "service": "b", "message": "e" * 20_000})
    ]
    lines = [orjson.dumps(c) for pair in zip(out, err, strict=True) for c in pair]
    batch = p.parse(lines, T0)
    assert [(r["service"], len(r["message"]), r[TS_KEY]) for r in batch] == [("a", 20_000, T0), ("b", 20_000, T0)]


def test_a_batch_is_bounded_by_bytes_as_well_as_lines(tmp_path: Path) -> None:
    """Long lines end a batch at `batch_bytes`, however many lines `batch_lines` would allow."""
    clock = FakeClock(T0)
    m = _monitor(tmp_path, [], clock, batch_bytes=1 << 20, max_line_bytes=128 << 10)
    _write(tmp_path / "app.log", *({"timestamp": STAMP, "service": "s", "message": "x" * 100_000} for _ in range(40)))
    sizes = []
    while True:
        lines = m._read_batch()
        if not lines:
            break
        sizes.append(sum(map(len, lines)))
    assert len(sizes) > 1 and max(sizes) <= 1 << 20 and sum(sizes) > 40 * 100_000
    m.close()
