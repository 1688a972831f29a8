#!/usr/bin/env bash
# Performance of the last HOURS hours: log-analyzer performance and exchanges over $LOG_DIR.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG [HOURS] [log-analyzer options...]

Latency percentiles, success rates, cache hit ratio, error rates, memory and CPU, incidents, and the
exchange comparison for the last HOURS hours (default 1), from the JSON logs in \$LOG_DIR ($LOG_DIR).
Options after HOURS go to both log-analyzer commands (e.g. --format json, --service market-data).

Examples:
  $PROG 1
  $PROG 6 --format json
USAGE
}

case "${1:-}" in -h | --help) usage; exit 0 ;; esac
hours="${1:-1}"
[[ $# -gt 0 ]] && shift
require_positive_int HOURS "$hours" 876600 # 100 years, the longest --since
hours=$((10#$hours))
require_logs
run_tool log-analyzer performance --since "${hours}h" "$@" "$LOG_DIR"
run_tool log-analyzer exchanges --since "${hours}h" "$@" "$LOG_DIR"
