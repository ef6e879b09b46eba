#!/usr/bin/env bash
# go-toolchain-image.sh — make a Go toolchain image for the BUILD platform
# (linux/amd64) without pulling from Docker Hub: a minimal Debian bookworm rootfs
# made with debootstrap that includes golang-go, imported and pushed to the
# local registry. Cached: does nothing when the registry already holds the tag.
#
#   DOCKER_HOST=... bash scripts/go-toolchain-image.sh [IMAGE]
#
# Needs root (debootstrap) and Debian's package archive as configured in
# /etc/apt/sources.list.d/debian.sources (the mirror is read from there).
# Last stdout line: IMAGE=<ref>
set -euo pipefail

IMAGE="${1:-127.0.0.1:5000/nxcb/golang:bookworm}"
SUITE="${GO_TOOLCHAIN_SUITE:-bookworm}"
log() { printf '[go-toolchain] %s\n' "$*" >&2; }
die() { printf '[go-toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

if docker buildx imagetools inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE already in the registry (cached)"
  echo "IMAGE=$IMAGE"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2; } ||
    die "could not install debootstrap"
fi

# The first deb URI of the configured sources (deb822 or one-line format).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
fi
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

work="$(mktemp -d /var/tmp/nxcb-go-rootfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
log "debootstrap $SUITE (minbase + golang-go) into $work"
t0=$(date +%s)
debootstrap --variant=minbase --arch=amd64 --include=golang-go,ca-certificates "$SUITE" "$work/rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -n 40 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
log "debootstrap done in $(( $(date +%s) - t0 ))s; importing"

tar -C "$work/rootfs" --numeric-owner -cf - . |
  docker import --platform linux/amd64 \
    -c 'ENV PATH=/usr/lib/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV GOTOOLCHAIN=local' -c 'ENV GOFLAGS=-mod=mod' -c 'ENV GOPROXY=off' \
    -c 'WORKDIR /src' -c 'CMD ["go", "version"]' - "$IMAGE" >&2
docker push "$IMAGE" >&2
docker buildx imagetools inspect "$IMAGE" >/dev/null || die "the registry does not hold $IMAGE after the push"
log "pushed $IMAGE in $(( $(date +%s) - t0 ))s total"
echo "IMAGE=$IMAGE"
