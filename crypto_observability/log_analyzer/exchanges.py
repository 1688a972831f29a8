"""Exchange comparison: reliability, latency, rate limiting, error types and data quality, ranked.

Ranking: higher success rate first, then lower p95 latency, then fewer rate-limit hits. Counts use the
vocabulary (``vocabulary.py``): a call's failure is one failure, its type is the failure type, and a
rate-limit hit is a failed call of type rate_limit (its ``rate_limit_hit`` companion is not counted again).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from crypto_observability.log_analyzer._util import percentiles, ratio, rnd
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.vocabulary import FAILURE, FAILURE_TYPE, RATE_LIMITED, SUCCESS
from crypto_observability.log_analyzer.vocabulary import count as tally


def _by_exchange(ds: Dataset, query: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for exchange, key, count in ds.rows(query):
        out[exchange][key] = count
    return out


def analyze_exchanges(ds: Dataset) -> dict[str, Any]:
    """Return one ranked row per exchange with its calls, success rate, p50/p95 and problems."""
    rows = ds.dicts(f"""SELECT exchange, sum(n)::BIGINT AS calls, {tally(SUCCESS)} AS succeeded,
                        {tally(FAILURE)} AS failures, {tally(RATE_LIMITED)} AS rate_limit_hits
                        FROM counts WHERE event = 'exchange_api_call' AND exchange IS NOT NULL GROUP BY 1""")
    timing = {key[0]: (values, peak) for key, _, values, peak in
              percentiles(ds, ("exchange",), "event = 'exchange_api_call' AND exchange IS NOT NULL", (0.5, 0.95))}
    for row in rows:
        (row["p50_ms"], row["p95_ms"]), row["max_ms"] = timing.get(row["exchange"], ((None, None), None))
    errors = _by_exchange(ds, f"""SELECT exchange, {FAILURE_TYPE}, sum(n)::BIGINT FROM counts
                                  WHERE event = 'exchange_api_call' AND {FAILURE} AND exchange IS NOT NULL
                                  GROUP BY ALL""")
    quality = _by_exchange(ds, """SELECT exchange, flag, sum(n)::BIGINT FROM (SELECT exchange, unnest(flags) AS flag, n
                                  FROM counts WHERE event = 'data_quality_issue' AND exchange IS NOT NULL)
                                  GROUP BY ALL""")
    health = dict(ds.rows("""SELECT substr(component, 10), coalesce(sum(n) FILTER (WHERE healthy), 0) / sum(n)
                             FROM counts WHERE event = 'health_check' AND component LIKE 'exchange:%'
                             GROUP BY 1"""))
    known = {r["exchange"] for r in rows}
    for name in sorted((set(quality) | set(health)) - known):
        rows.append({"exchange": name, "calls": 0, "succeeded": 0, "failures": 0, "rate_limit_hits": 0,
                     "p50_ms": None, "p95_ms": None, "max_ms": None})
    for row in rows:
        name = row["exchange"]
        row["success_rate"] = ratio(row["succeeded"], row["succeeded"] + row["failures"])
        row["errors_by_type"] = dict(sorted(errors.get(name, {}).items()))
        row["data_quality_flags"] = dict(sorted(quality.get(name, {}).items()))
        row["healthy_ratio"] = rnd(health.get(name), 4)
        for key in ("p50_ms", "p95_ms", "max_ms"):
            row[key] = rnd(row[key])
    rows.sort(key=lambda r: (-(r["success_rate"] or 0.0), r["p95_ms"] if r["p95_ms"] is not None else 1e18,
                             r["rate_limit_hits"], r["exchange"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return {"exchanges": rows}
