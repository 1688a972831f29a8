#!/usr/bin/env bash
# The daily health report: log-analyzer report for the last day, as text and as a self-contained HTML file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--since SPAN] [--out DIR]

Health score, errors, performance, journeys and exchanges for the last day from \$LOG_DIR ($LOG_DIR).
Writes DIR/report-YYYY-MM-DD.txt and DIR/report-YYYY-MM-DD.html (UTC date) and prints the text.

Options:
  --since SPAN  how far back: a duration (30m, 1h30m, 24h, 7d) or an ISO 8601 time (default 24h)
  --out DIR     where the reports go (default \$REPORT_DIR, $REPORT_DIR)
  -h, --help    show this help

Cron, every morning at 06:00 UTC:
  0 6 * * * cd /path/to/repo && ./scripts/daily_log_report.sh >/dev/null
USAGE
}

since="24h"
out="$REPORT_DIR"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --since) [[ $# -ge 2 ]] || die_usage "--since needs a value"; since="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die_usage "--out needs a directory"; out="$2"; shift 2 ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done
# --since speaks log-analyzer's own grammar (crypto_observability/shared/durations.py, or ISO 8601): checked before anything is written
why="$(PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$(python_cmd)" -c '
import sys
from datetime import UTC, datetime
from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.filters import parse_time
try:
    parse_time(sys.argv[1], datetime.now(UTC))
except OptionError as exc:
    print(exc)
' "$since")"
[[ -z "$why" ]] || die_usage "$why"
require_logs
mkdir -p "$out"
stamp="$(date -u +%Y-%m-%d)"
run_tool log-analyzer report --since "$since" --html "$out/report-$stamp.html" "$LOG_DIR" | tee "$out/report-$stamp.txt"
printf '\nreport: %s\n        %s\n' "$out/report-$stamp.txt" "$out/report-$stamp.html"
