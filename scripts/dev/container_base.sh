#!/usr/bin/env bash
# Makes the local base image the container test builds FROM (a stand-in for python:3.11-slim on a
# machine that cannot reach an image registry) and prints its name. Cached as a podman image:
# reused when present, so only the first run pays for it (about a minute).
#   1. debootstrap --variant=minbase bookworm, from the Debian mirror apt already uses
#   2. podman import  -> localhost/crypto-assistant/debian:bookworm-minbase
#   3. podman build docker/podman/python-base.Containerfile -> localhost/crypto-assistant/python:3.11-bookworm
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/docker/podman/containers.conf}"
debian_image=localhost/crypto-assistant/debian:bookworm-minbase
python_image="${CONTAINER_BASE_IMAGE:-localhost/crypto-assistant/python:3.11-bookworm}"

if podman image exists "$python_image"; then
  echo "$python_image"
  exit 0
fi

mirror() {  # the Debian mirror apt is configured with (deb822 or one-line sources), else deb.debian.org
  local url
  url="$(grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)"
  echo "${url:-http://deb.debian.org/debian}"
}

if ! podman image exists "$debian_image"; then
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  echo "debootstrap minbase bookworm from $(mirror) (about 20 s)" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*  # apt caches: 60+ MB nobody reads
  tar -C "$rootfs" -c . | podman import --quiet - "$debian_image" >/dev/null
  rm -rf "$rootfs"
fi
echo "building $python_image" >&2
podman build --quiet --network host --build-arg DEBIAN_IMAGE="$debian_image" \
  -f "$repo/docker/podman/python-base.Containerfile" -t "$python_image" "$repo/docker/podman" >/dev/null
echo "$python_image"
