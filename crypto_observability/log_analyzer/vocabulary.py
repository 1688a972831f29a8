"""One vocabulary for every count the analyzer prints, as SQL over the flat columns.

    record        one log line that is one of our records
    problem       a record at WARNING or above (what ``errors`` groups into patterns)
    error         a record at ERROR or above
    outcome       a record saying whether an operation worked: ``context.success``, a health
                  check's ``context.healthy``, or an ``http_request``'s status code
    user mistake  an outcome that failed because of what a user typed (an unknown symbol, a missing
                  argument, an HTTP 4xx other than 408 and 429): not the service's fault
    failure       an outcome that failed for any other reason: one per failed operation, so one
                  failed exchange call is one failure (its ``rate_limit_hit`` companion is a
                  problem, not a second failure)
    failure type  ``context.error_type``, else ``error.type``, else ``exception.type``, else "unknown"

Every command counts with these predicates, so the same records give the same number wherever
they appear (``tests/tools/log_analyzer/test_analyzer_vocabulary.py``).
"""

from __future__ import annotations

from crypto_observability.log_analyzer.schema import ERROR_LEVELS, PROBLEM_LEVELS

# what the bot and market-data call a user's mistake (services/telegram_bot/commands.py)
USER_ERROR_TYPES: tuple[str, ...] = ("missing_argument", "bad_symbol", "bad_timeframe", "unknown_symbol",
                                     "unknown_command")


def _levels(levels: tuple[str, ...]) -> str:
    return "level IN (" + ", ".join(f"'{lvl}'" for lvl in levels) + ")"


PROBLEM = _levels(PROBLEM_LEVELS)
ERROR = _levels(ERROR_LEVELS)
# every predicate is TRUE or FALSE, never NULL, so it can be negated and used as a value
OUTCOME = ("(success IS NOT NULL OR healthy IS NOT NULL "
           "OR coalesce(event = 'http_request' AND status_code IS NOT NULL, false))")
_FAILED = ("(coalesce(success = false, false) OR coalesce(healthy = false, false) "
           "OR coalesce(event = 'http_request' AND status_code >= 400, false))")
USER_MISTAKE = ("(" + _FAILED + " AND coalesce(error_type IN (" + ", ".join(f"'{t}'" for t in USER_ERROR_TYPES)
                + "), false) OR " + _FAILED + " AND coalesce(status_code BETWEEN 400 AND 499 "
                "AND status_code NOT IN (408, 429), false))")
FAILURE = f"({_FAILED} AND NOT {USER_MISTAKE})"
SUCCESS = f"({OUTCOME} AND NOT {_FAILED})"
FAILURE_TYPE = "coalesce(error_type, err_type, exc_type, 'unknown')"
RATE_LIMITED = f"({FAILURE} AND {FAILURE_TYPE} IN ('rate_limit', 'RateLimitExceeded', 'DDoSProtection'))"

LABELS: dict[str, str] = {
    "records": "records",
    "problems": "problems (WARNING+ records)",
    "errors": "errors (ERROR+ records)",
    "outcomes": "outcomes (operations that say whether they worked)",
    "failures": "failures (failed operations, user mistakes excluded)",
    "user_mistakes": "user mistakes (failed because of the user's input)",
}


def count(predicate: str, weight: str = "n") -> str:
    """Return SQL summing ``weight`` over the rows matching ``predicate`` (0 when none)."""
    return f"coalesce(sum({weight}) FILTER (WHERE {predicate}), 0)::BIGINT"


def tallies(weight: str = "n") -> str:
    """Return the SELECT items counting records, problems, errors, outcomes, failures and user mistakes."""
    return (f"coalesce(sum({weight}), 0)::BIGINT AS records, {count(PROBLEM, weight)} AS problems, "
            f"{count(ERROR, weight)} AS errors, {count(OUTCOME, weight)} AS outcomes, "
            f"{count(FAILURE, weight)} AS failures, {count(USER_MISTAKE, weight)} AS user_mistakes")
