# shellcheck shell=bash
# Sourced by the scripts in this directory: where the repository is, how to reach the Python commands,
# and the checks every script makes on its arguments. Not meant to be run on its own.

# What the scripts create (reports through tee, state) is 0640 in 0750 directories, as the library's files are.
umask 027

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="$(basename "$0")"
LOG_DIR="${LOG_DIR:-$REPO_ROOT/logs}"
STATE_DIR="${STATE_DIR:-$REPO_ROOT/var}"
REPORT_DIR="${REPORT_DIR:-$REPO_ROOT/reports}"

# Print "PROG: error: MESSAGE" and a hint to stderr, exit 2 (a usage error).
die_usage() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  printf "Try '%s --help'.\n" "$PROG" >&2
  exit 2
}

# Print "PROG: error: MESSAGE" to stderr, exit 1 (the environment is not ready).
die() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  exit 1
}

# require_positive_int NAME VALUE [MAX]: VALUE must be a whole number (decimal, leading zeros allowed: 08 is 8)
# from 1 to MAX (default 999999999). Use it as $((10#VALUE)) afterwards: a bare 08 is an invalid octal to bash.
require_positive_int() {
  local max="${3:-999999999}" digits
  if ! [[ "$2" =~ ^[0-9]+$ ]]; then
    die_usage "$1 must be a whole number of at least 1, got '$2'"
  fi
  digits="${2#"${2%%[!0]*}"}" # without its leading zeros: at most 18 digits fit bash's arithmetic
  if ((${#digits} > ${#max})) || ((10#$2 > max)); then
    die_usage "$1 must be at most $max, got '$2'"
  fi
  if ((10#$2 < 1)); then
    die_usage "$1 must be a whole number of at least 1, got '$2'"
  fi
}

# The interpreter of the project's virtualenv when there is one, else python3 on PATH.
python_cmd() {
  if [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then
    printf '%s\n' "$REPO_ROOT/.venv/bin/python"
  else
    command -v python3 || die "no Python found: run 'make install' (or scripts/setup_logging.sh)"
  fi
}

# run_tool NAME ARGS...: the installed console script (log-analyzer, log-monitor), else
# python -m crypto_observability.<name with _> (the package, from the checkout or an installed wheel).
# With RUN_TOOL_EXEC=1 the tool replaces the shell (exec), so the script's PID becomes the tool's.
run_tool() {
  local name="$1" module run=()
  shift
  module="crypto_observability.${name//-/_}"
  [[ "${RUN_TOOL_EXEC:-0}" == 1 ]] && run=(exec)
  if [[ -x "$REPO_ROOT/.venv/bin/$name" ]]; then
    "${run[@]}" "$REPO_ROOT/.venv/bin/$name" "$@"
  elif command -v "$name" >/dev/null 2>&1; then
    "${run[@]}" "$name" "$@"
  else
    PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "${run[@]}" "$(python_cmd)" -m "$module" "$@"
  fi
}

# The log directory must exist and hold at least one service log.
require_logs() {
  [[ -d "$LOG_DIR" ]] || die "no log directory '$LOG_DIR': run scripts/setup_logging.sh or set LOG_DIR"
  compgen -G "$LOG_DIR/*.log*" >/dev/null || die "no log files in '$LOG_DIR' (<service>.log): are the services running?"
}
