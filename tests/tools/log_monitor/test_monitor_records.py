"""Parsing and the shared Batch pass: rules give the same windows however the records are batched."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.records import TS_KEY, Batch, RecordParser
from crypto_observability.log_monitor.rules_logs import (
    AbsenceRule,
    BaselineRule,
    ErrorRateRule,
    MatchRule,
    NewFingerprintRule,
    PercentileRule,
)

T0 = 1_736_937_000.0


def test_parse_sets_epoch_and_counts_bad_lines() -> None:
    """Records get `_ts` from their timestamp (ms kept), Docker wrappers are unwrapped, junk is counted."""
    p = RecordParser()
    inner = b'{"timestamp":"2025-01-15T10:30:00.250Z","service":"s"}'
    lines = [inner, orjson.dumps({"log": inner.decode() + "\n", "stream": "stdout"}), b"not json", b'{"a":1}', b"[1]"]
    batch = p.parse(lines)
    assert [r[TS_KEY] for r in batch] == [T0 + 0.25, T0 + 0.25]
    assert p.parse_errors == 3 and p.newest_ts == T0 + 0.25


def test_batch_indexes_survive_odd_field_types() -> None:
    """A list where a service name belongs is indexed by its JSON text instead of breaking the batch."""
    batch = Batch([{"service": ["x"], "level": "ERROR", TS_KEY: T0}, {"service": "a", "level": "INFO", TS_KEY: T0 + 1}])
    assert set(batch.by_field("service")) == {'["x"]', "a"}
    assert batch.tally == {('["x"]', "ERROR", int(T0)): 1, ("a", "INFO", int(T0) + 1): 1}
    assert batch.newest("a") == T0 + 1 and batch.newest("b") is None
    assert batch.having("level", ["INFO", "ERROR"]) == [batch[1], batch[0]]


RECORD = st.fixed_dictionaries(
    {
        "t": st.integers(0, 900_000),
        "service": st.sampled_from(["market-data", "telegram-bot", "other"]),
        "level": st.sampled_from(["INFO", "ERROR", "CRITICAL", "WARNING"]),
        "event": st.sampled_from(["http_request", "bot_command", "rate_limit_hit"]),
        "rt": st.one_of(st.none(), st.integers(0, 5000), st.floats(0.1, 9000.0), st.booleans(), st.just("slow")),
        "fp": st.sampled_from([None, "f1", "f2", "f3"]),
    }
)


def _line(r: dict[str, Any]) -> bytes:
    ts = T0 - 900 + r["t"] / 1000
    rec = {
        "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": r["service"],
        "level": r["level"],
        "event": r["event"],
        "message": f"m{r['t']}",
        "context": {"response_time_ms": r["rt"], "exchange": "binance"},
    }
    if r["fp"]:
        rec["error"] = {"type": "E", "fingerprint": r["fp"]}
    return orjson.dumps(rec)


def _rules() -> dict[str, Any]:
    return {
        "err": ErrorRateRule(c.ErrorRateRule(name="err", type="error_rate", min_volume=1)),
        "err_by": ErrorRateRule(c.ErrorRateRule(name="err_by", type="error_rate", by=["service", "event"])),
        "err_odd": ErrorRateRule(c.ErrorRateRule(name="err_odd", type="error_rate", window=90, service="other")),
        "p95": PercentileRule(c.PercentileRule(name="p95", type="percentile", threshold=100, min_count=1)),
        "p95_md": PercentileRule(
            c.PercentileRule(name="p95_md", type="percentile", threshold=1, service="market-data", event="http_request")
        ),
        "p95_ev": PercentileRule(
            c.PercentileRule(name="p95_ev", type="percentile", threshold=1, event="bot_command", by=["level"])
        ),
        "match": MatchRule(
            c.MatchRule(name="match", type="match", where={"level": "CRITICAL"}, regex={"message": "1"})
        ),
        "match_n": MatchRule(
            c.MatchRule(name="match_n", type="match", where={"context.exchange": "binance", "event": "rate_limit_hit"})
        ),
        "absent": AbsenceRule(c.AbsenceRule(name="absent", type="absence", services=["market-data", "x"], seconds=1)),
        "newfp": NewFingerprintRule(c.NewFingerprintRule(name="newfp", type="new_fingerprint")),
        "hod": BaselineRule(c.BaselineRule(name="hod", type="error_baseline", min_days=1)),
        "hod_by": BaselineRule(c.BaselineRule(name="hod_by", type="error_baseline", min_days=1, by=["event"])),
    }


@settings(max_examples=40, deadline=None)
@given(st.lists(RECORD, max_size=60), st.lists(st.integers(0, 60), max_size=5))
def test_rules_see_the_same_windows_however_records_are_batched(recs: list[dict[str, Any]], cuts: list[int]) -> None:
    """One big batch and the same records cut into small batches leave identical rule states and signals."""
    records = RecordParser().parse([_line(r) for r in recs])
    bounds = sorted({0, len(records), *(min(x, len(records)) for x in cuts)})
    for name, rule in _rules().items():
        whole: dict[str, Any] = {}
        sig_whole = rule.evaluate(Batch(copy.deepcopy(records)), T0, whole)
        parts: dict[str, Any] = {}
        for lo, hi in itertools.pairwise(bounds):
            sig_parts = rule.evaluate(copy.deepcopy(records[lo:hi]), T0, parts)
        if len(bounds) > 1:
            whole.pop("sample", None), parts.pop("sample", None)
            assert whole == parts, name
            assert sorted((repr(s.labels), s.value) for s in sig_whole) == sorted(
                (repr(s.labels), s.value) for s in sig_parts), name  # the same signals, in any order


def test_error_rate_from_shared_counts_equals_a_record_scan() -> None:
    """The per-second counts give exactly the buckets a scan of every record gives."""
    lines = [
        _line({"t": t * 337, "service": "s", "level": "ERROR" if t % 3 else "INFO", "event": "e", "rt": 1, "fp": None})
        for t in range(2000)
    ]
    records = RecordParser().parse(lines)
    fast, slow = (ErrorRateRule(c.ErrorRateRule(name="e", type="error_rate")) for _ in range(2))
    slow.from_tally = False
    s1: dict[str, Any] = {}
    s2: dict[str, Any] = {}
    fast.evaluate(Batch(records), T0, s1)
    slow.evaluate(Batch(records), T0, s2)
    assert s1 == s2 and s1["groups"]["s"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=4,
)
ODD_RECORD = st.fixed_dictionaries(
    {
        "service": JSON | st.sampled_from(["market-data", "telegram-bot"]),
        "level": JSON | st.sampled_from(["ERROR", "CRITICAL"]),
        "event": JSON | st.sampled_from(["http_request", "security_event", "rate_limit_hit"]),
        "message": JSON,
        "context": JSON
        | st.fixed_dictionaries({"response_time_ms": JSON, "severity": JSON, "exchange": JSON, "n": JSON}),
        "error": JSON | st.fixed_dictionaries({"fingerprint": JSON, "type": JSON}),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ODD_RECORD, min_size=1, max_size=8))
def test_default_rules_survive_any_field_types(recs: list[dict[str, Any]]) -> None:
    """Lists, objects, numbers or null where strings belong never crash a rule, the engine or a commit."""
    import tempfile

    from crypto_observability.log_monitor.clock import FakeClock
    from crypto_observability.log_monitor.monitor import Monitor
    from crypto_observability.log_monitor.notifiers import RecordingNotifier
    from crypto_observability.log_monitor.sampler import FixedSampler

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = c.load_config("config/monitor.yml", {"LOG_DIR": tmp, "MONITOR_STATE_DB": str(root / "s.db")})
        cfg = base.model_copy(update={"start_at": "beginning"})
        rec = RecordingNotifier()
        m = Monitor(
            cfg, clock=FakeClock(T0), notifiers={"console": rec}, sampler=FixedSampler({}), http_get=lambda u, t: 200
        )
        stamp = "2025-01-15T10:30:00.000Z"
        (root / "market-data.log").write_bytes(b"".join(orjson.dumps({"timestamp": stamp, **r}) + b"\n" for r in recs))
        assert m.step() == len(recs)
        m.deliver()
        assert m.selfmon["parse_errors"] == 0
        m.close()
