#!/usr/bin/env bash
# Start log-monitor on the service logs: validate the config, then run in the foreground or background.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--config FILE] [--once | --duration SECONDS] [--background]

Validate the monitor config, then follow \$LOG_DIR ($LOG_DIR), evaluate the rules and send alerts.
State (offsets, alerts, history) is kept in \$MONITOR_STATE_DB (default \$STATE_DIR/log-monitor.db).

Options:
  --config FILE       monitor rules and channels (default config/monitor.yml; docs/log_monitor.md)
  --once              one pass over what is there, deliver, exit
  --duration SECONDS  stop after this many seconds
  --background        detach; output to \$STATE_DIR/log-monitor.out, log-monitor's own pid in
                      \$STATE_DIR/log-monitor.pid (kill it to stop the monitor)
  -h, --help          show this help

Afterwards: log-monitor status, log-monitor alerts, log-monitor ack ID (same --config).
USAGE
}

config="$REPO_ROOT/config/monitor.yml"
run_args=()
background=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --config) [[ $# -ge 2 ]] || die_usage "--config needs a file"; config="$2"; shift 2 ;;
    --once) run_args+=(--once); shift ;;
    --duration)
      [[ $# -ge 2 ]] || die_usage "--duration needs a number of seconds"
      require_positive_int "--duration" "$2" 3155760000 # 100 years, the longest duration
      run_args+=(--duration "$((10#$2))"); shift 2 ;;
    --background) background=1; shift ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done
[[ -f "$config" ]] || die_usage "no config file '$config'"
[[ -d "$LOG_DIR" ]] || die "no log directory '$LOG_DIR': run scripts/setup_logging.sh or set LOG_DIR"

LOG_DIR="$(cd "$LOG_DIR" && pwd)"
export LOG_DIR
export MONITOR_STATE_DB="${MONITOR_STATE_DB:-$STATE_DIR/log-monitor.db}"
mkdir -p "$(dirname "$MONITOR_STATE_DB")"

if [[ "${START_MONITORING_CHECKED:-}" != "$config" ]]; then
  run_tool log-monitor check-config --config "$config" >/dev/null || die "config '$config' is not valid (see above)"
fi
if ((background)); then
  mkdir -p "$STATE_DIR"
  # the child (config already checked) execs log-monitor: $! is the monitor's own PID
  START_MONITORING_CHECKED="$config" nohup "$0" --config "$config" "${run_args[@]}" \
    >>"$STATE_DIR/log-monitor.out" 2>&1 &
  echo $! >"$STATE_DIR/log-monitor.pid"
  printf 'log-monitor started (pid %s); output in %s\n' "$!" "$STATE_DIR/log-monitor.out"
  exit 0
fi
printf 'log-monitor: following %s with %s (state %s)\n' "$LOG_DIR" "$config" "$MONITOR_STATE_DB"
RUN_TOOL_EXEC=1 run_tool log-monitor run --config "$config" "${run_args[@]}"
