#!/usr/bin/env bash
# Installs the system packages the tests need (headless Chromium for the HTML report test,
# shellcheck for the scripts' lint test),
# plus lnav (the lnav format test) and jq (bench_search's anchor),
# only when they are missing; quiet and idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v lnav >/dev/null 2>&1 || need+=(lnav)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "warning: missing ${need[*]}; install them with your package manager" >&2
  fi
fi
