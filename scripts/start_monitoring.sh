#!/usr/bin/env bash
# Start log-monitor on the service logs: validate the config, then run in the foreground or background.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

# monitor_alive PID: PID is a running log-monitor (this script's child execs it), not a dead, zombie or recycled pid.
monitor_alive() {
  local line
  kill -0 "$1" 2>/dev/null || return 1
  command -v ps >/dev/null 2>&1 || return 0 # no ps: trust kill -0
  line="$(ps -o stat=,args= -p "$1" 2>/dev/null)" || return 1
  line="${line#"${line%%[![:space:]]*}"}"
  [[ "$line" != Z* ]] || return 1
  [[ "$line" == *log-monitor* || "$line" == *log_monitor* || "$line" == *start_monitoring* ]]
}

usage() {
  cat <<USAGE
Usage: $PROG [--config FILE] [--once | --duration SECONDS] [--background]

Validate the monitor config, then follow \$LOG_DIR ($LOG_DIR), evaluate the rules and send alerts.
State (offsets, alerts, history) is kept in the config's state_db: for the shipped config that is
\$MONITOR_STATE_DB (default \$STATE_DIR/log-monitor.db); a config naming its own path keeps it there.

Options:
  --config FILE       monitor rules and channels (default config/monitor.yml; docs/log_monitor.md)
  --once              one pass over what is there, deliver, exit
  --duration SECONDS  stop after this many seconds
  --background        detach; output to \$STATE_DIR/log-monitor.out, log-monitor's own pid in
                      \$STATE_DIR/log-monitor.pid (kill it to stop the monitor). Refused while the pid
                      recorded there is a running monitor; a monitor that exits within
                      \$START_MONITORING_WAIT seconds (default 2) is reported with its last output, exit 1
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
wait_s="${START_MONITORING_WAIT:-2}"
require_positive_int START_MONITORING_WAIT "$wait_s" 600
wait_s=$((10#$wait_s))
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
  pid_file="$STATE_DIR/log-monitor.pid"
  out="$STATE_DIR/log-monitor.out"
  if [[ -f "$pid_file" ]]; then
    recorded="$(head -c 32 "$pid_file" | tr -dc '0-9')"
    if [[ -n "$recorded" ]] && monitor_alive "$recorded"; then
      die "log-monitor is already running (pid $recorded, recorded in $pid_file): stop it first (kill $recorded)"
    fi
  fi
  offset=0 # this run's output starts there
  [[ ! -f "$out" ]] || offset="$(wc -c <"$out")"
  # the child (config already checked) execs log-monitor: $! is the monitor's own PID
  START_MONITORING_CHECKED="$config" nohup "$0" --config "$config" "${run_args[@]}" >>"$out" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"
  # a monitor that cannot run (the state lock is another's, the state is unwritable) exits at once: watch it briefly
  for ((tick = 0; tick < wait_s * 10; tick++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf 'log-monitor started (pid %s); output in %s\n' "$pid" "$out"
    exit 0
  fi
  rc=0
  wait "$pid" || rc=$?
  [[ "$(cat "$pid_file" 2>/dev/null)" != "$pid" ]] || rm -f -- "$pid_file"
  if ((rc == 0)); then # --once or a short --duration: done already
    printf 'log-monitor ran and finished (pid %s, exit 0); output in %s\n' "$pid" "$out"
    exit 0
  fi
  printf '%s: error: log-monitor exited at once (exit %s); the last lines of %s:\n' "$PROG" "$rc" "$out" >&2
  tail -c "+$((offset + 1))" "$out" | tail -n 10 >&2 || true
  exit 1
fi
printf 'log-monitor: following %s with %s\n' "$LOG_DIR" "$config"
RUN_TOOL_EXEC=1 run_tool log-monitor run --config "$config" "${run_args[@]}"
