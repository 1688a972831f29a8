#!/usr/bin/env bash
# Installs what `make test-containers` needs on a fresh Debian/Ubuntu machine: podman, runc,
# podman-compose and debootstrap (only those missing; quiet and idempotent). The podman settings
# live in the repository (docker/podman/containers.conf, via CONTAINERS_CONF), not in /etc.
set -euo pipefail
need=()
for tool in podman runc podman-compose debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "error: missing ${need[*]}; install them with your package manager (as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
