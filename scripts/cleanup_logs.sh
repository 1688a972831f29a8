#!/usr/bin/env bash
# Delete rotated log files and reports older than DAYS days. Active <service>.log files are never touched.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: $PROG DAYS [--dry-run]

Delete what is older than DAYS days (a whole number from 1 to 36500; by modification time):
  rotated service logs in \$LOG_DIR ($LOG_DIR): <service>.log.<time>[.gz]
  daily reports in \$REPORT_DIR ($REPORT_DIR): report-*.txt, report-*.html
The active <service>.log files and the hidden .<service>.log.lock files are never deleted: the services rotate them (LOG_MAX_BYTES, LOG_MAX_AGE)
and keep LOG_BACKUP_COUNT rotated files; this script is the age limit on top.

Options:
  --dry-run   list what would be deleted, delete nothing
  -h, --help  show this help

Example: $PROG 30
USAGE
}

days=""
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1; shift ;;
    -*) die_usage "unknown option '$1'" ;;
    *) [[ -z "$days" ]] || die_usage "one DAYS only, got '$days' and '$1'"; days="$1"; shift ;;
  esac
done
[[ -n "$days" ]] || die_usage "DAYS is required (delete files older than DAYS days)"
require_positive_int DAYS "$days" 36500 # 100 years
days=$((10#$days)) # decimal: 08 is 8 days, not an invalid octal
[[ -d "$LOG_DIR" ]] || die "no log directory '$LOG_DIR'"

minutes=$((days * 1440))
count=0
while IFS= read -r -d '' file; do
  if ((dry_run)); then
    printf 'would delete %s\n' "$file"
  else
    rm -f -- "$file"
    printf 'deleted %s\n' "$file"
  fi
  count=$((count + 1))
done < <(
  # [!.]: never the hidden .<service>.log.lock files, which hold the creation time LOG_MAX_AGE rotation uses
  find "$LOG_DIR" -maxdepth 1 -type f -name '[!.]*.log.*' -mmin "+$minutes" -print0
  if [[ -d "$REPORT_DIR" ]]; then
    find "$REPORT_DIR" -maxdepth 1 -type f -name 'report-*' -mmin "+$minutes" -print0
  fi
)
if ((dry_run)); then
  printf '%d file(s) older than %d day(s) would be deleted\n' "$count" "$days"
else
  printf '%d file(s) older than %d day(s) deleted\n' "$count" "$days"
fi
