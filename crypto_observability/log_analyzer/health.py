"""Health score 0-100 per service and overall, with the breakdown that produced it.

Each component scores 0-100; a service's score is the weighted mean of the components it has data for
(weights renormalised), and the overall score is the mean of the service scores:

    error_rate     30 %  100 x (1 - share of errors (ERROR+ records) / 5 %), floor 0
    latency        25 %  mean over its timed events of 100 x min(1, target / p95)
    availability   20 %  100 x (success rate - 80 %) / 20 %, clamped to 0-100: the service's outcomes that
                         succeeded among those that succeeded or failed (user mistakes left out), every
                         service alike (``vocabulary.py``)
    rate_limiting  15 %  100 x (1 - rate-limit hits per exchange call / 10 %), floor 0
    freshness      10 %  100 when the newest record is <= 5 min old, 0 at >= 60 min, linear between; scored
                         only when the analysed range reaches the present (see ``live``), else left out
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crypto_observability.log_analyzer._util import percentiles
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.vocabulary import ERROR, FAILURE, RATE_LIMITED, SUCCESS, USER_MISTAKE, count

WEIGHTS = {"error_rate": 0.30, "latency": 0.25, "availability": 0.20, "rate_limiting": 0.15, "freshness": 0.10}
LATENCY_TARGETS_MS = {"http_request": 500.0, "bot_command": 2000.0, "exchange_api_call": 1000.0,
                      "market_data_response": 1000.0}
ERROR_RATE_ZERO = 0.05
AVAILABILITY_FLOOR = 0.80
RATE_LIMIT_ZERO = 0.10
FRESH_SECONDS, STALE_SECONDS = 300.0, 3600.0


def _clamp(value: float) -> float:
    return round(max(0.0, min(100.0, value)), 1)


def grade(score: float | None) -> str:
    """Name the state a score stands for: healthy (>= 90), degraded (>= 70) or unhealthy."""
    if score is None:
        return "unknown"
    return "healthy" if score >= 90 else "degraded" if score >= 70 else "unhealthy"


def combine(components: dict[str, float | None]) -> float | None:
    """Return the weighted mean of the components that have a score (weights renormalised)."""
    present = {k: v for k, v in components.items() if v is not None}
    if not present:
        return None
    weight = sum(WEIGHTS[k] for k in present)
    return round(sum(WEIGHTS[k] * v for k, v in present.items()) / weight, 1)


def _service_facts(ds: Dataset) -> list[dict[str, Any]]:
    events = ", ".join(f"'{e}'" for e in LATENCY_TARGETS_MS)
    facts = ds.dicts(f"""SELECT service, sum(n)::BIGINT AS records, {count(ERROR)} AS errors, max(last_ts) AS newest,
                         {count(SUCCESS)} AS succeeded, {count(FAILURE)} AS failures,
                         {count(USER_MISTAKE)} AS user_mistakes,
                         {count("event = 'exchange_api_call'")} AS calls,
                         {count(f"event = 'exchange_api_call' AND {RATE_LIMITED}")} AS rate_limits
                         FROM counts GROUP BY 1 ORDER BY 1""")
    p95 = [(*key, values[0]) for key, _, values, _ in
           percentiles(ds, ("service", "event"), f"event IN ({events})", (0.95,))]
    for row in facts:
        row["p95_ms"] = {event: round(value, 2) for service, event, value in p95 if service == row["service"]}
    return facts


def service_health(row: dict[str, Any], now: datetime, live: bool = True) -> dict[str, Any]:
    """Score one service from its facts (see the module docstring for the formula)."""
    latency = [100 * min(1.0, LATENCY_TARGETS_MS[e] / p) if p > 0 else 100.0 for e, p in row["p95_ms"].items()]
    age = (now.astimezone(UTC).replace(tzinfo=None) - row["newest"]).total_seconds()
    judged = row["succeeded"] + row["failures"]
    components: dict[str, float | None] = {
        "error_rate": _clamp(100 * (1 - row["errors"] / row["records"] / ERROR_RATE_ZERO)),
        "latency": _clamp(sum(latency) / len(latency)) if latency else None,
        "availability": (_clamp(100 * (row["succeeded"] / judged - AVAILABILITY_FLOOR)
                                / (1 - AVAILABILITY_FLOOR)) if judged else None),
        "rate_limiting": (_clamp(100 * (1 - row["rate_limits"] / row["calls"] / RATE_LIMIT_ZERO))
                          if row["calls"] else None),
        "freshness": _clamp(100 * (STALE_SECONDS - age) / (STALE_SECONDS - FRESH_SECONDS)) if live else None,
    }
    score = combine(components)
    return {"service": row["service"], "score": score, "grade": grade(score), "components": components,
            "facts": {"records": row["records"], "errors": row["errors"],
                      "error_rate": round(row["errors"] / row["records"], 4),
                      "failures": row["failures"], "user_mistakes": row["user_mistakes"],
                      "success_rate": round(row["succeeded"] / judged, 4) if judged else None,
                      "exchange_calls": row["calls"], "rate_limit_hits": row["rate_limits"],
                      "p95_ms": row["p95_ms"], "newest_age_seconds": round(age, 1)}}


def reaches_present(ds: Dataset, now: datetime) -> bool:
    """Say whether the analysed range reaches ``now``: no ``--until`` before it, and the input written within the
    stale limit (a live LOG_DIR always has a fresh file, a live store a fresh insert; last week's files do not)."""
    if ds.filters.until is not None and ds.filters.until < now - timedelta(seconds=FRESH_SECONDS):
        return False
    return now.timestamp() - ds.last_written() <= STALE_SECONDS


def analyze_health(ds: Dataset, now: datetime | None = None) -> dict[str, Any]:
    """Return the overall score, its per-component means, and each service's score and breakdown."""
    now = now or datetime.now(UTC)
    live = reaches_present(ds, now)
    services = [service_health(row, now, live) for row in _service_facts(ds)]
    scores = [s["score"] for s in services if s["score"] is not None]
    overall = round(sum(scores) / len(scores), 1) if scores else None
    breakdown = {}
    for name in WEIGHTS:
        values = [s["components"][name] for s in services if s["components"][name] is not None]
        breakdown[name] = round(sum(values) / len(values), 1) if values else None
    return {"score": overall, "grade": grade(overall), "components": breakdown, "weights": WEIGHTS, "live": live,
            "freshness_note": None if live else "historical logs (the range does not reach the present): "
                                                "freshness not scored",
            "services": services, "evaluated_at": now.astimezone(UTC).isoformat(timespec="seconds")}
