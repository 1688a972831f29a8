#!/usr/bin/env bash
# Error patterns of the last HOURS hours: log-analyzer errors over $LOG_DIR.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG [HOURS] [log-analyzer options...]

Error patterns of the last HOURS hours (default 24): message templates with counts, trend,
spikes and the services affected, from the JSON logs in \$LOG_DIR ($LOG_DIR).
Options after HOURS go to 'log-analyzer errors' (e.g. --format json, --service market-data, --top 10).

Examples:
  $PROG 24
  $PROG 1 --format json
USAGE
}

case "${1:-}" in -h | --help) usage; exit 0 ;; esac
hours="${1:-24}"
[[ $# -gt 0 ]] && shift
require_positive_int HOURS "$hours" 876600 # 100 years, the longest --since
hours=$((10#$hours))
require_logs
run_tool log-analyzer errors --since "${hours}h" "$@" "$LOG_DIR"
