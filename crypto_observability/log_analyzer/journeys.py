"""User journeys: records sharing a ``request_id``, followed across services in time order.

A failed journey says why: the failure type (vocabulary.py) of its first failed or ERROR+ step, and that step.
A journey's duration is the larger of its span (last minus first timestamp) and the longest
``response_time_ms`` inside it; it failed when any record is ERROR+ or its last judged outcome is a
failure (vocabulary.py: a user mistake is not one).
Each step's time is the gap since the previous step, so the slowest step is where the time went.
Steps of the same millisecond keep the order of their lines in the input (file by file); of two
outcomes at the same millisecond the failure counts as the last.
"""

from __future__ import annotations

from typing import Any

from crypto_observability.log_analyzer._util import iso, ratio, rnd
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.vocabulary import ERROR, FAILURE, FAILURE_TYPE

# Only what every journey needs, merged from the per-file parts (summary.TABLES); a listed journey's command
# and services come with its steps. Comparing 64-bit hashes of service names is much cheaper than the strings.
_JOURNEYS = """
CREATE OR REPLACE TEMP TABLE journeys AS
SELECT request_id, max("user") AS "user", min(start) AS start, max(finish) AS finish, sum(events)::BIGINT AS events,
       min(service_lo) <> max(service_hi) AS cross_service,
       greatest(epoch_ms(max(finish)) - epoch_ms(min(start)), coalesce(max(rt_max), 0)) AS duration_ms,
       bool_or(has_error) OR coalesce(NOT arg_max(outcome, outcome_key) FILTER (WHERE outcome_key IS NOT NULL),
                                      false) AS failed
FROM journey_parts GROUP BY request_id
"""


def steps(ds: Dataset, request_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Return each journey's ordered steps with offset from its start and gap from the previous step."""
    out: dict[str, list[dict[str, Any]]] = {rid: [] for rid in request_ids}
    rows = ds.dicts(f"""SELECT request_id, ts, service, event, level, message, rt, success, command,
                       CASE WHEN {FAILURE} OR {ERROR} THEN {FAILURE_TYPE} END AS failure_type
                       FROM {ds.rows_with("request_id", request_ids)} ORDER BY request_id, ts, service, seq""")
    for row in rows:
        journey = out[row.pop("request_id")]
        moment = row.pop("ts")
        first = journey[0]["_ts"] if journey else moment
        previous = journey[-1]["_ts"] if journey else moment
        row.update(_ts=moment, time=iso(moment), offset_ms=(moment - first).total_seconds() * 1000,
                   gap_ms=(moment - previous).total_seconds() * 1000, response_time_ms=rnd(row.pop("rt")))
        journey.append(row)
    for journey in out.values():
        for row in journey:
            del row["_ts"]
    return out


def slowest_step(journey: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the step after the longest gap (where the journey spent most time), if any."""
    later = journey[1:]
    return max(later, key=lambda s: s["gap_ms"]) if later else None


def _detail(rows: list[dict[str, Any]], details: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Add its steps, services, command and slowest step to each journey row."""
    for row in rows:
        row["start"], row["finish"] = iso(row["start"]), iso(row["finish"])
        row["duration_ms"] = rnd(float(row["duration_ms"]))
        row["steps"] = [dict(step) for step in details[row["request_id"]]]
        row["services"] = sorted({step["service"] for step in row["steps"]})
        row["command"] = max((c for step in row["steps"] if (c := step.pop("command")) is not None), default=None)
        worst = slowest_step(row["steps"])
        row["slowest_step"] = (None if worst is None else
                               {"event": step_name(worst), "service": worst["service"], "gap_ms": worst["gap_ms"]})
        failed = next((s for s in row["steps"] if s["failure_type"] is not None), None)
        row["why"] = (None if failed is None else
                      f"{failed['failure_type']} at {step_name(failed)} ({failed['service']})")
    return rows


def step_name(step: dict[str, Any]) -> str:
    """Name a step by its event, or by the start of its message when it has none."""
    return str(step["event"] or step["message"][:48])


def analyze_journeys(ds: Dataset, top: int = 10, slow_ms: float | None = None) -> dict[str, Any]:
    """Summarise journeys and return the slowest and the latest failed ones with their steps."""
    ds.con.execute(_JOURNEYS)
    total, failed, cross, p50, p95, p99 = ds.rows(
        "SELECT count(*), count(*) FILTER (WHERE failed), count(*) FILTER (WHERE cross_service), "
        "quantile_cont(duration_ms, 0.5), quantile_cont(duration_ms, 0.95), quantile_cont(duration_ms, 0.99) "
        "FROM journeys")[0]
    threshold = float(slow_ms if slow_ms is not None else (p95 or 0.0))
    slow = int(ds.scalar("SELECT count(*) FROM journeys WHERE duration_ms > ?", [threshold]) or 0)
    columns = ('request_id, "user", NULL::VARCHAR AS command, NULL::VARCHAR[] AS services, events, start, finish, '
               'duration_ms, failed')
    slowest = ds.dicts(f"SELECT {columns} FROM journeys ORDER BY duration_ms DESC, request_id LIMIT {int(top)}")
    failures = ds.dicts(f"SELECT {columns} FROM journeys WHERE failed ORDER BY start DESC, request_id "
                        f"LIMIT {int(top)}")
    users = ds.dicts(f"""SELECT "user", count(*) AS journeys, count(*) FILTER (WHERE failed) AS failed,
                         quantile_cont(duration_ms, 0.95) AS p95_ms FROM journeys WHERE "user" IS NOT NULL
                         GROUP BY 1 ORDER BY failed DESC, journeys DESC, "user" LIMIT {int(top)}""")
    for row in users:
        row["p95_ms"] = rnd(row["p95_ms"])
    details = steps(ds, sorted({r["request_id"] for r in slowest + failures}))  # one scan for both lists
    return {
        "total": total, "failed": failed, "failure_rate": ratio(failed, total), "cross_service": cross,
        "slow_threshold_ms": rnd(threshold), "slow": slow,
        "duration_ms": {"p50": rnd(p50), "p95": rnd(p95), "p99": rnd(p99)},
        "slowest": _detail(slowest, details), "failures": _detail(failures, details), "users": users,
    }
