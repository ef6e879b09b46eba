#!/usr/bin/env bash
# toolchain-image.sh — make the base images of the service scaffolds
# (nx g nx-compose-buildx:service --language=<kind>) from Debian packages, with
# no Docker Hub: a minimal Debian rootfs per architecture made with mmdebstrap,
# imported with `docker import --platform`, pushed to the local registry and,
# for more than one architecture, assembled into a manifest list.
#
#   DOCKER_HOST=... bash scripts/toolchain-image.sh <go|rust|node|python> [BUILD_IMAGE [RUNTIME_IMAGE]]
#
#   go      BUILD_IMAGE   <repo>/golang:bookworm       linux/amd64         golang-go
#   rust    BUILD_IMAGE   <repo>/rust:bookworm         linux/amd64         rustc, cargo, gcc and, for
#                                                                          cross-compiling to arm64,
#                                                                          libstd-rust-dev:arm64 and
#                                                                          gcc-aarch64-linux-gnu
#   node    BUILD_IMAGE   <repo>/node-build:bookworm   linux/amd64+arm64   nodejs, npm
#           RUNTIME_IMAGE <repo>/node:bookworm         linux/amd64+arm64   nodejs
#   python  BUILD_IMAGE   <repo>/python-build:bookworm linux/amd64+arm64   python3, python3-venv
#           RUNTIME_IMAGE <repo>/python:bookworm       linux/amd64+arm64   python3
#
# <repo> is $TOOLCHAIN_REPO (default 127.0.0.1:5000/nxcb). TOOLCHAIN_ARCHES (Debian
# architecture names, e.g. "arm64 armhf") replaces the kind's architectures: npm run bench
# makes a go image for the target platforms that way, to compile under QEMU for comparison
# (armhf is linux/arm/v7, ppc64el linux/ppc64le). go and rust build on the build
# platform only (they cross-compile); node and python install their dependencies at the
# TARGET platform, so theirs are per-platform: the arm64 rootfs is made under the QEMU
# binfmt emulator (registered with flag F by scripts/local-stack.sh), in parallel with
# the amd64 one. The runtime image is the build image's rootfs before the build-only
# packages go in (one bootstrap per architecture makes both).
#
# Cached: does nothing when the registry already holds every image of the kind.
# Needs root (mmdebstrap, installed when missing) and Debian's package archive as
# configured in /etc/apt/sources.list.d/debian.sources (the mirror is read from there).
# Last stdout lines: BUILD_IMAGE=<ref> and, for node and python, RUNTIME_IMAGE=<ref>.
set -euo pipefail

kind="${1:-}"
REPO="${TOOLCHAIN_REPO:-127.0.0.1:5000/nxcb}"
SUITE="${TOOLCHAIN_SUITE:-bookworm}"
log() { printf '[toolchain-image %s] %s\n' "$kind" "$*" >&2; }
die() { printf '[toolchain-image %s] ERROR: %s\n' "$kind" "$*" >&2; exit 1; }

# Per kind: the image refs, the architectures, the packages of the runtime rootfs, the
# packages the build image adds on top, foreign architectures for cross-compiling, and
# the image config (docker import -c lines).
runtime_ref=""
build_only=""
foreign=""
config=('ENV LANG=C.UTF-8')
case "$kind" in
  go)
    build_ref="${2:-$REPO/golang:$SUITE}"
    arches=(amd64)
    packages="golang-go,ca-certificates"
    config+=('ENV PATH=/usr/lib/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
      'ENV GOTOOLCHAIN=local' 'ENV GOFLAGS=-mod=mod' 'ENV GOPROXY=off' 'WORKDIR /src' 'CMD ["go", "version"]')
    ;;
  rust)
    build_ref="${2:-$REPO/rust:$SUITE}"
    arches=(amd64)
    # Debian's rustc has each target's std as a multiarch package (libstd-rust-dev:<arch>);
    # the cross gcc links, libc6-dev-<arch>-cross gives the static libc for crt-static.
    foreign="arm64"
    packages="rustc,cargo,gcc,libc6-dev,libstd-rust-dev:arm64,gcc-aarch64-linux-gnu,libc6-dev-arm64-cross"
    config+=('WORKDIR /src' 'CMD ["rustc", "--version"]')
    ;;
  node)
    build_ref="${2:-$REPO/node-build:$SUITE}"
    runtime_ref="${3:-$REPO/node:$SUITE}"
    arches=(amd64 arm64)
    packages="nodejs"
    build_only="npm"
    config+=('WORKDIR /app' 'CMD ["node", "--version"]')
    ;;
  python)
    build_ref="${2:-$REPO/python-build:$SUITE}"
    runtime_ref="${3:-$REPO/python:$SUITE}"
    arches=(amd64 arm64)
    packages="python3"
    # python3 -m venv with the pip wheel Debian bundles for ensurepip.
    build_only="python3-venv"
    config+=('WORKDIR /app' 'CMD ["python3", "--version"]')
    ;;
  *) die "usage: toolchain-image.sh <go|rust|node|python> [BUILD_IMAGE [RUNTIME_IMAGE]]" ;;
esac

# shellcheck disable=SC2206 # a list of Debian architecture names, split on spaces
[ -z "${TOOLCHAIN_ARCHES:-}" ] || arches=(${TOOLCHAIN_ARCHES})
# The OCI platform of a Debian architecture.
platform_of() {
  case "$1" in
    armhf) echo linux/arm/v7 ;;
    armel) echo linux/arm/v5 ;;
    ppc64el) echo linux/ppc64le ;;
    i386) echo linux/386 ;;
    *) echo "linux/$1" ;;
  esac
}

refs=("$build_ref")
[ -z "$runtime_ref" ] || refs+=("$runtime_ref")
for ref in "${refs[@]}"; do
  [[ "${ref##*/}" == *:* ]] || die "image reference $ref needs a tag (the per-architecture tags are <tag>-<arch>)"
done

missing=0
for ref in "${refs[@]}"; do
  docker buildx imagetools inspect "$ref" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 0 ]; then
  log "${refs[*]} already in the registry (cached)"
  echo "BUILD_IMAGE=$build_ref"
  [ -z "$runtime_ref" ] || echo "RUNTIME_IMAGE=$runtime_ref"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "mmdebstrap needs root here (mode root)"
if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v arch-test >/dev/null 2>&1; then
  log "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap arch-test >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap arch-test >&2; } ||
    die "could not install mmdebstrap"
fi
for arch in "${arches[@]}"; do
  [ "$arch" = "$(dpkg --print-architecture)" ] || arch-test "$arch" >/dev/null 2>&1 ||
    die "this machine cannot run $arch binaries: register the QEMU binfmt emulators first (scripts/local-stack.sh)"
done

# The first deb URI of the configured sources (deb822 or one-line format).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
fi
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

work="$(mktemp -d /var/tmp/nxcb-toolchain-"$kind".XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
t0=$(date +%s)

# In the runtime rootfs, taken in a customize hook (before mmdebstrap's own cleanup): leave
# out what that cleanup removes, and the host's resolv.conf and hostname that mmdebstrap
# copied in (the engine provides both at run time).
not_in_image="--exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*' --exclude='./var/log/*'"
not_in_image+=" --exclude=./etc/apt/apt.conf.d/00mmdebstrap --exclude=./var/cache/ldconfig/aux-cache"
not_in_image+=" --exclude=./etc/resolv.conf --exclude=./etc/hostname"

# One rootfs per architecture, in parallel: build.tar and, with a runtime image, runtime.tar.
# force-unsafe-io: no fsync per unpacked file (the rootfs is thrown away on failure anyway);
# it stays in the images' dpkg config, as in Docker's own Debian images.
bootstrap() {
  local arch="$1" dir="$work/$arch"
  local -a args=(--mode=root --variant=minbase --architectures="$arch${foreign:+,$foreign}" --include="$packages"
    --aptopt='Acquire::Languages "none"' --dpkgopt='force-unsafe-io'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/info/*')
  if [ -n "$runtime_ref" ]; then
    # Customize hooks run with the chroot still mounted: --one-file-system keeps /proc,
    # /sys and /dev's mounts out. Then the build-only packages go in (under emulation
    # for a foreign architecture), with the package lists still in place.
    args+=(--customize-hook="tar -C \"\$1\" --one-file-system --numeric-owner $not_in_image -cf '$dir/runtime.tar' ."
      --customize-hook="chroot \"\$1\" apt-get install --yes -q --no-install-recommends $build_only")
  fi
  args+=(--customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"')
  mkdir -p "$dir"
  mmdebstrap "${args[@]}" "$SUITE" "$dir/build.tar" "$mirror" >"$dir/log" 2>&1
}
for arch in "${arches[@]}"; do
  log "mmdebstrap $SUITE $arch (minbase + $packages${build_only:+, then $build_only})"
  bootstrap "$arch" &
  pids+=("$!")
done
for i in "${!arches[@]}"; do
  if ! wait "${pids[$i]}"; then
    tail -n 40 "$work/${arches[$i]}/log" >&2
    die "mmdebstrap failed for ${arches[$i]}"
  fi
done
pids=()
log "rootfs done in $(( $(date +%s) - t0 ))s; importing"

import_args=()
for c in "${config[@]}"; do import_args+=(-c "$c"); done

# Push one image: a single architecture as is, several as a manifest list of <tag>-<arch>.
publish() {
  local ref="$1" tarname="$2" arch
  if [ "${#arches[@]}" = 1 ]; then
    docker import --platform "$(platform_of "${arches[0]}")" "${import_args[@]}" "$work/${arches[0]}/$tarname" "$ref" >&2
    docker push -q "$ref" >&2
  else
    local -a per_arch=()
    for arch in "${arches[@]}"; do
      docker import --platform "$(platform_of "$arch")" "${import_args[@]}" "$work/$arch/$tarname" "$ref-$arch" >&2
      docker push -q "$ref-$arch" >&2
      per_arch+=("$ref-$arch")
    done
    docker buildx imagetools create -t "$ref" "${per_arch[@]}" >&2
    docker image rm "${per_arch[@]}" >/dev/null 2>&1 || true
  fi
  docker buildx imagetools inspect "$ref" >/dev/null || die "the registry does not hold $ref after the push"
  log "pushed $ref ($(du -m "$work/${arches[0]}/$tarname" | cut -f1) MB rootfs for ${arches[0]})"
}
[ -z "$runtime_ref" ] || publish "$runtime_ref" runtime.tar
publish "$build_ref" build.tar
log "made ${refs[*]} in $(( $(date +%s) - t0 ))s total"
echo "BUILD_IMAGE=$build_ref"
[ -z "$runtime_ref" ] || echo "RUNTIME_IMAGE=$runtime_ref"
