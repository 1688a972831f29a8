#!/usr/bin/env bash
# Set up logging on this machine; safe to run again (it only adds what is missing).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG [--env-file FILE] [--no-venv] [--install-logrotate]

Idempotent setup of the logging system:
  1. directories: \$LOG_DIR ($LOG_DIR) 0750, \$STATE_DIR ($STATE_DIR), \$REPORT_DIR; log files 0640
  2. the env file (default .env, mode 0600) with every setting's default; existing values are kept,
     missing keys are added. It holds no real secret: TELEGRAM_BOT_TOKEN is a stand-in for the local
     Telegram simulator (put BotFather's token there for production) and LOG_USER_SALT is random.
  3. a logrotate config for hosts without Docker: \$STATE_DIR/logrotate.conf (from config/logrotate.conf)
  4. the virtualenv with every extra: make install

Options:
  --env-file FILE      write settings here instead of .env (\$ENV_FILE also works)
  --no-venv            skip step 4 (\$SETUP_SKIP_VENV=1 also works)
  --install-logrotate  also copy the logrotate config to /etc/logrotate.d/crypto-assistant (root)
  -h, --help           show this help
USAGE
}

env_file="${ENV_FILE:-$REPO_ROOT/.env}"
skip_venv="${SETUP_SKIP_VENV:-0}"
install_logrotate=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --env-file) [[ $# -ge 2 ]] || die_usage "--env-file needs a file"; env_file="$2"; shift 2 ;;
    --no-venv) skip_venv=1; shift ;;
    --install-logrotate) install_logrotate=1; shift ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done

step() { printf '==> %s\n' "$1"; }

step "directories"
mkdir -p "$LOG_DIR" "$STATE_DIR" "$REPORT_DIR"
chmod 0750 "$LOG_DIR" "$STATE_DIR"
find "$LOG_DIR" -maxdepth 1 -type f -name '*.log*' -exec chmod 0640 {} +
printf '    %s (0750), %s, %s\n' "$LOG_DIR" "$STATE_DIR" "$REPORT_DIR"

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# add_default KEY VALUE COMMENT: append KEY=VALUE unless the env file already sets KEY.
add_default() {
  if ! grep -q "^$1=" "$env_file"; then
    printf '# %s\n%s=%s\n' "$3" "$1" "$2" >>"$env_file"
    added=$((added + 1))
  fi
}

step "settings: $env_file"
added=0
if [[ ! -f "$env_file" ]]; then
  (umask 077 && printf '# crypto-assistant settings (scripts/setup_logging.sh). Never commit this file.\n' >"$env_file")
fi
chmod 0600 "$env_file"
add_default ENVIRONMENT development "development | staging | production: written into every record"
add_default LOG_LEVEL INFO "DEBUG | INFO | WARNING | ERROR | CRITICAL"
add_default LOG_DIR ./logs "host directory of <service>.log (inside containers it is always /app/logs)"
add_default LOG_CONSOLE true "JSON lines on stdout too (what docker logs shows)"
add_default LOG_FILE true "write \$LOG_DIR/<service>.log"
add_default MONITORING_ENABLED true "the memory/CPU sampler behind each record's performance block"
add_default LOG_MAX_BYTES 50MB "rotate a service file past this size"
add_default LOG_MAX_AGE 1d "rotate a service file past this age"
add_default LOG_BACKUP_COUNT 10 "rotated .gz files kept per service"
add_default DOCKER_LOG_MAX_SIZE 20m "Docker json-file: rotate past this size (docker-compose.logging.yml)"
add_default DOCKER_LOG_MAX_FILE 5 "Docker json-file: files kept per container"
# The containers run as a non-root user: as root, that is the images' default 10001, which then owns $LOG_DIR.
host_uid="$(id -u)" host_gid="$(id -g)"
[[ "$host_uid" != 0 ]] || host_uid=10001
[[ "$host_gid" != 0 ]] || host_gid=10001
add_default APP_UID "$host_uid" "containers write ./logs as this user (never 0), so the files stay yours"
add_default APP_GID "$host_gid" "and this group (never 0)"
add_default GIT_COMMIT unknown "the commit every record names; refreshed from git on every run (unknown: none)"
add_default COMPOSE_PROFILES simulated "simulated: exchange and Telegram simulators, no network needed; empty in production"
add_default EXCHANGE_SIMULATOR_URL http://exchange-simulator:8089 "empty in production: the real exchanges"
add_default TELEGRAM_API_BASE_URL http://telegram-simulator:8081/bot "empty in production: api.telegram.org"
add_default TELEGRAM_BOT_TOKEN "100000001:sim-$(random_hex 16)" "stand-in accepted only by the local simulator; BotFather's token in production"
add_default LOG_USER_SALT "$(random_hex 32)" "key of the user-id hash: keep it secret, the same for every service, and stable"
add_default BOT_MODE polling "polling | webhook"
add_default ALLOWED_USER_IDS "" "comma-separated Telegram user ids allowed to use the bot; empty: nobody (the bot says so)"
add_default WEBHOOK_URL "" "webhook mode: the public https URL Telegram posts to"
add_default WEBHOOK_SECRET_TOKEN "" "webhook mode: the secret Telegram sends back in every post"
add_default FLB_CLICKHOUSE_PASSWORD "$(random_hex 16)" "the central store's password (the clickhouse service and Fluent Bit's output; log-analyzer reads it as CLICKHOUSE_PASSWORD)"
add_default FLB_OPENSEARCH_PASSWORD "" "Fluent Bit's OpenSearch output, when FLB_OPENSEARCH_MATCH switches it on"
printf '    %d setting(s) added, existing ones kept\n' "$added"

# Values an earlier version wrote that cannot work: a root APP_UID/APP_GID fails every image build.
for key in APP_UID APP_GID; do
  if grep -q "^$key=0$" "$env_file"; then
    sed -i "s/^$key=0$/$key=10001/" "$env_file"
    printf '    %s=0 replaced by 10001 (the services never run as root)\n' "$key"
  fi
done
commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
sed -i "s/^GIT_COMMIT=.*/GIT_COMMIT=$commit/" "$env_file"
printf '    GIT_COMMIT=%s\n' "$commit"
if [[ "$(id -u)" == 0 ]]; then  # root made $LOG_DIR: hand it to the containers' user
  app_uid="$(sed -n 's/^APP_UID=//p' "$env_file" | tail -1)" app_gid="$(sed -n 's/^APP_GID=//p' "$env_file" | tail -1)"
  chown "$app_uid:$app_gid" "$LOG_DIR"
  find "$LOG_DIR" -maxdepth 1 -type f -name '*.log*' -exec chown "$app_uid:$app_gid" {} +
  printf '    %s owned by %s:%s (APP_UID:APP_GID)\n' "$LOG_DIR" "$app_uid" "$app_gid"
fi

step "logrotate (hosts without Docker)"
sed -e "s|@STATE_DIR@|$STATE_DIR|g" -e "s|@LOG_DIR@|$LOG_DIR|g" \
    -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" \
    "$REPO_ROOT/config/logrotate.conf" >"$STATE_DIR/logrotate.conf.tmp"
mv "$STATE_DIR/logrotate.conf.tmp" "$STATE_DIR/logrotate.conf"
printf '    %s; cron: 0 3 * * * logrotate -s %s %s\n' "$STATE_DIR/logrotate.conf" \
  "$STATE_DIR/logrotate.state" "$STATE_DIR/logrotate.conf"
if ((install_logrotate)); then
  [[ "$(id -u)" == 0 ]] || die "--install-logrotate writes /etc/logrotate.d: run it as root"
  install -m 0644 "$STATE_DIR/logrotate.conf" /etc/logrotate.d/crypto-assistant
  printf '    installed /etc/logrotate.d/crypto-assistant\n'
fi

step "virtualenv"
if [[ "$skip_venv" == 1 ]]; then
  printf '    skipped (--no-venv)\n'
else
  make -C "$REPO_ROOT" install
  printf '    %s\n' "$REPO_ROOT/.venv"
fi

cat <<NEXT

Next:
  docker compose -f docker-compose.yml -f docker-compose.logging.yml up -d   # the stack, logs in $LOG_DIR
  ./scripts/test_logging.sh                                                  # every logger writes, parsed and redacted
  ./scripts/start_monitoring.sh                                              # alerts on the live logs
NEXT
