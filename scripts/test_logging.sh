#!/usr/bin/env bash
# Emit a test event through every logger of every service, then check each arrived, parsed and redacted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
SELFTEST_LOG_DIR="${SELFTEST_LOG_DIR:-$STATE_DIR/selftest}"

usage() {
  cat <<USAGE
Usage: $PROG [SERVICE...]

For each service (default: market-data telegram-bot) emit one event through every road into its log:
the stdlib logger (setup_service_logging), the StructuredLogger, the service's typed logger
(MarketLogger + ExchangeLogger, BotLogger) and a third-party library logger (httpx), each carrying a
planted bot token, API key and password. Then read <dir>/<service>.log back and check every event
arrived as a valid JSON record, with the secrets masked and the user id hashed.
Exit 0 when all arrived, 1 otherwise.

The self-test writes to \$SELFTEST_LOG_DIR ($SELFTEST_LOG_DIR), never to \$LOG_DIR, so
its fake exchange calls and warnings never reach a real report; its records carry environment
"selftest" as well.
USAGE
}

services=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    market-data | telegram-bot) services+=("$arg") ;;
    *) die_usage "unknown service '$arg' (market-data or telegram-bot)" ;;
  esac
done
[[ ${#services[@]} -gt 0 ]] || services=(market-data telegram-bot)
mkdir -p "$SELFTEST_LOG_DIR"

status=0
for service in "${services[@]}"; do
  LOG_DIR="$SELFTEST_LOG_DIR" ENVIRONMENT=selftest LOG_FILE=true LOG_CONSOLE=false LOG_LEVEL=DEBUG PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" \
    "$(python_cmd)" - "$service" <<'PY' || status=1
import json, logging, os, secrets, sys
from pathlib import Path

from crypto_observability.shared.context import bind_context
from crypto_observability.shared.logging_config import setup_service_logging, shutdown_logging
from crypto_observability.shared.structured_logger import create_structured_logger

service = sys.argv[1]
marker = "selftest-" + secrets.token_hex(4)
token = "1234567" + ":" + "AAF" + secrets.token_urlsafe(24)[:32]
api_key, password, user_id = "k" + secrets.token_hex(12), "p" + secrets.token_hex(8), 987654321
planted = (token, api_key, password)
expected = {}

setup_service_logging(service, "test_logging")
bind_context(selftest=marker)
log = logging.getLogger(f"{service}.test_logging")
log.warning("logging self-test (stdlib) with token %s", token, extra={"context": {"api_key": api_key}})
expected["stdlib logger"] = lambda r: r["message"].startswith("logging self-test (stdlib)")
slog = create_structured_logger(service, "test_logging")
slog.info("logging self-test (structured)", password=password, url=f"https://api.telegram.org/bot{token}/getMe")
expected["StructuredLogger"] = lambda r: r["message"] == "logging self-test (structured)"
logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe apiKey=%s", token, api_key)
expected["third-party (httpx)"] = lambda r: r.get("logger") == "httpx" or r.get("module") == "httpx"
try:
    if service == "market-data":
        from services.market_data.market_logger import MarketLogger
        mlog = MarketLogger()
        mlog.cache_operation("get", f"ticker:BTC-USDT:{marker}", hit=False)
        expected["MarketLogger"] = lambda r: r.get("event") == "cache_operation"
        mlog.exchange_api_call("binanceusdm", "fetch_ticker", "BTC/USDT", 12.5)
        expected["ExchangeLogger"] = lambda r: r.get("event") == "exchange_api_call"
    else:
        from services.telegram_bot.bot_logger import BotLogger
        BotLogger().user_authorization("price", True, user_id=user_id)
        expected["BotLogger"] = lambda r: r.get("event") not in (None, "") and "user" in r
except ImportError as exc:
    print(f"  SKIP {service}: typed logger not importable ({exc}); install the extra")
shutdown_logging()

path = Path(os.environ["LOG_DIR"]) / f"{service}.log"
records, bad = [], 0
for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
    if marker not in line:
        continue
    try:
        records.append(json.loads(line))
    except ValueError:
        bad += 1
failures, ok = [], 0
required = ("timestamp", "service", "module", "level", "message", "context", "environment", "performance")
for road, is_it in expected.items():
    found = [r for r in records if is_it(r)]
    if not found:
        failures.append(f"{road}: no record arrived")
        continue
    rec = found[0]
    text = json.dumps(rec)
    if missing := [k for k in required if k not in rec]:
        failures.append(f"{road}: keys missing {missing}")
    elif rec["service"] != service:
        failures.append(f"{road}: service is {rec['service']!r}")
    elif leaked := [s for s in planted if s in text]:
        failures.append(f"{road}: secret not masked ({len(leaked)} of {len(planted)})")
    elif str(user_id) in text:
        failures.append(f"{road}: raw user id in the record")
    else:
        ok += 1
        print(f"  ok   {service:<13} {road:<20} {rec['level']:<8} {rec['message'][:60]}")
if bad:
    failures.append(f"{bad} line(s) with the marker are not valid JSON")
for failure in failures:
    print(f"  FAIL {service:<13} {failure}")
print(f"{service}: {ok} of {len(expected)} roads ok -> {path}")
sys.exit(1 if failures else 0)
PY
done
if ((status)); then
  printf '%s: some events did not arrive intact (see FAIL above)\n' "$PROG" >&2
else
  printf '%s: every event arrived, parsed and redacted\n' "$PROG"
fi
exit "$status"
