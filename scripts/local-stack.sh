#!/usr/bin/env bash
# local-stack.sh — set up and run a private multi-arch Docker build stack on a
# Debian 12 (bookworm) machine, as root, from nothing and idempotently.
#
#   up              install/fetch what is missing, start everything, build the
#                   base image if the registry lacks it. Last stdout line:
#                   DOCKER_HOST=unix://.../docker.sock
#   down            stop dockerd, containerd and the registry (keeps state)
#   status [--deep] per-component report; exit 0 only if the stack is usable
#                   (--deep also runs a container for each platform)
#   env             print `export DOCKER_HOST=...`
#   registry-stop   stop only the registry (e2e: push-failure tests)
#   registry-start  start only the registry
#   engine-up NAME  a second engine of the same binaries with its own containerd,
#                   image store and BuildKit cache ($NXCB_STACK_DIR/engines/NAME),
#                   for work that prunes its builder without clearing everyone
#                   else's cache (npm run bench). Same registry and QEMU; needs
#                   `up` first. Last stdout line: DOCKER_HOST=unix://.../docker.sock
#   engine-down NAME stop that engine (keeps its state)
#
# Parts: dockerd/containerd/buildx/compose/tini come from Debian trixie .debs,
# unpacked (never installed) into a private prefix; runc, qemu-user-static,
# docker-registry and skopeo are bookworm packages. No network bridge and no
# iptables rules are ever created (dockerd runs with "bridge": "none").
# Progress goes to stderr; daemons log to $NXCB_STACK_DIR/logs.
set -euo pipefail

STACK="${NXCB_STACK_DIR:-/var/lib/nxcb-stack}"
PREFIX="$STACK/prefix"
BIN="$STACK/bin"
RUN="$STACK/run"
LOGS="$STACK/logs"
DOCKER_SOCK="$RUN/docker.sock"
CONTAINERD_SOCK="$RUN/containerd.sock"
REGISTRY_ADDR="127.0.0.1:5000"
BASE_REPO="nxcb/busybox"
BASE_TAG="latest"
BASE_IMAGE="$REGISTRY_ADDR/$BASE_REPO:$BASE_TAG"
PLATFORMS="linux/amd64,linux/arm64,linux/arm/v7,linux/ppc64le,linux/s390x"
# platform | debian arch | expected `uname -m`
PLATFORM_TABLE="linux/amd64:amd64:x86_64 linux/arm64:arm64:aarch64 linux/arm/v7:armhf:armv7l linux/ppc64le:ppc64el:ppc64le linux/s390x:s390x:s390x"
QEMU_ARCHES="aarch64 arm ppc64le s390x riscv64"
TRIXIE_PKGS="docker.io containerd docker-buildx docker-compose tini"
# rsync: gitlab-ci-local copies each job's checkout and artifacts with it (e2e/generators/ci-native.test.ts)
SYSTEM_PKGS="qemu-user-static docker-registry skopeo runc curl ca-certificates libsystemd0 libcap2 util-linux rsync"
PLUGIN_DIR="/usr/libexec/docker/cli-plugins"
DAEMON_PATH="$BIN:$PREFIX/usr/bin:$PREFIX/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { printf '[local-stack] %s\n' "$*" >&2; }
die() { printf '[local-stack] ERROR: %s\n' "$*" >&2; exit 1; }
show_log() { # show_log NAME
  local f="$LOGS/$1.log"
  if [ -f "$f" ]; then
    printf '[local-stack] ---- last lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
    printf '[local-stack] ---- end of %s ----\n' "$f" >&2
  fi
}
now_ms() { date +%s%3N; }

# The stack's own docker CLI environment (independent of the caller's).
sdocker() { env -u DOCKER_CONTEXT DOCKER_HOST="unix://$DOCKER_SOCK" docker "$@"; }

# ---------------------------------------------------------------- helpers --
pid_alive() { # pid_alive PIDFILE NAME-SUBSTRING
  local pf="$1" want="$2" pid
  [ -s "$pf" ] || return 1
  pid="$(cat "$pf" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$want"
}

# A process that exists and is not a zombie (orphaned daemons are reparented
# to PID 1, which may reap them late).
proc_running() {
  [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_pidfile() { # stop_pidfile PIDFILE NAME-SUBSTRING LABEL [TIMEOUT_S]
  local pf="$1" want="$2" label="$3" timeout="${4:-20}" pid i
  if pid_alive "$pf" "$want"; then
    pid="$(cat "$pf")"
    log "stopping $label (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      proc_running "$pid" || break
      sleep 0.1
    done
    if proc_running "$pid"; then
      log "$label did not stop in ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  else
    log "$label is not running"
  fi
  rm -f "$pf"
}

# Start a daemon fully detached: own session, stdin from /dev/null, output to
# its log, and no inherited descriptors (the lock fd 9 included), so callers
# that wait for pipes to close (execa, spawnSync) are never held up.
spawn() { # spawn NAME PIDFILE CMD...
  local name="$1" pf="$2"
  shift 2
  mkdir -p "$LOGS"
  printf '\n==== %s start %s ====\n' "$name" "$(date -Is)" >>"$LOGS/$name.log"
  PATH="$DAEMON_PATH" setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
  echo "$!" >"$pf"
}

wait_for() { # wait_for SECONDS LABEL LOGNAME CMD...
  local secs="$1" label="$2" logname="$3" i
  shift 3
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  show_log "$logname"
  die "$label did not become ready within ${secs}s"
}

mirror_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^[Uu][Rr][Ii][Ss]:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || die "cannot find the Debian mirror URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  printf '%s\n' "${uri%/}"
}

keyring_opt() {
  if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    printf '[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] '
  fi
}

# A private apt configuration (sources, lists, cache) under $STACK/apt/NAME.
# Sets APT_OPTS (array) for it.
private_apt() { # private_apt NAME SUITE [ARCH...]
  local name="$1" suite="$2" dir="$STACK/apt/$1" a
  shift 2
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  printf 'deb %s%s %s main\n' "$(keyring_opt)" "$(mirror_uri)" "$suite" >"$dir/sources.list.new"
  if ! cmp -s "$dir/sources.list.new" "$dir/sources.list" 2>/dev/null; then
    mv "$dir/sources.list.new" "$dir/sources.list"
    rm -f "$dir/lists/"*_Packages* "$dir/lists/"*Release* 2>/dev/null || true
  else
    rm -f "$dir/sources.list.new"
  fi
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$dir/lists"
    -o "Dir::Cache=$dir/cache"
    -o "Dir::State::status=/dev/null"
    -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1"
  )
  if [ $# -gt 0 ]; then
    APT_OPTS+=(-o "APT::Architecture=$1")
    for a in "$@"; do APT_OPTS+=(-o "APT::Architectures::=$a"); done
  fi
}

private_apt_update() { # uses APT_OPTS; $1 = name (for the log)
  log "apt-get update ($1)"
  apt-get "${APT_OPTS[@]}" -q update >>"$LOGS/apt.log" 2>&1 || { show_log apt; die "apt-get update ($1) failed"; }
}

# ------------------------------------------------------------ components --
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_system_packages() {
  local missing=() p
  for p in $SYSTEM_PKGS; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing bookworm packages: ${missing[*]}"
  mkdir -p "$LOGS"
  export DEBIAN_FRONTEND=noninteractive
  local have_lists=0
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 && have_lists=1
  if [ $have_lists = 1 ] && apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1; then
    return 0
  fi
  log "apt-get update (system)"
  apt-get -q update >>"$LOGS/apt.log" 2>&1 || { show_log apt; die "apt-get update failed"; }
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 ||
    { show_log apt; die "apt-get install ${missing[*]} failed"; }
}

# trixie .debs -> $STACK/debs/trixie -> dpkg -x into $PREFIX
ensure_prefix() {
  local debdir="$STACK/debs/trixie" p need=() stamp="$PREFIX/.nxcb-extracted" want
  mkdir -p "$debdir" "$LOGS"
  for p in $TRIXIE_PKGS; do
    compgen -G "$debdir/${p}_*_amd64.deb" >/dev/null || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    private_apt trixie trixie
    private_apt_update trixie
    log "downloading trixie packages: ${need[*]}"
    (cd "$debdir" && apt-get "${APT_OPTS[@]}" -q download "${need[@]}") >>"$LOGS/apt.log" 2>&1 ||
      { show_log apt; die "apt-get download (trixie) failed"; }
  fi
  want="$(cd "$debdir" && ls -1 ./*.deb | sort | tr '\n' ' ')"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x "$PREFIX/usr/sbin/dockerd" ]; then
    log "unpacking trixie packages into $PREFIX"
    rm -rf "$PREFIX"
    mkdir -p "$PREFIX"
    for p in "$debdir"/*.deb; do dpkg -x "$p" "$PREFIX"; done
    # trixie's runc needs GLIBC 2.38: never use one from the prefix
    rm -f "$PREFIX/usr/sbin/runc" "$PREFIX/usr/bin/runc"
    printf '%s' "$want" >"$stamp"
  fi
  mkdir -p "$BIN"
  ln -sfn "$PREFIX/usr/bin/tini-static" "$BIN/docker-init"
  ln -sfn /usr/sbin/runc "$BIN/runc"
  ln -sfn "$PREFIX/usr/bin/containerd-shim-runc-v2" "$BIN/containerd-shim-runc-v2"
}

plugins_ok() {
  [ "$(readlink "$PLUGIN_DIR/docker-buildx" 2>/dev/null)" = "$PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" ] &&
    [ "$(readlink "$PLUGIN_DIR/docker-compose" 2>/dev/null)" = "$PREFIX/usr/libexec/docker/cli-plugins/docker-compose" ] &&
    [ -x "$PLUGIN_DIR/docker-buildx" ] && [ -x "$PLUGIN_DIR/docker-compose" ]
}

ensure_plugins() {
  plugins_ok && return 0
  log "linking buildx and compose CLI plugins into $PLUGIN_DIR"
  mkdir -p "$PLUGIN_DIR"
  ln -sfn "$PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
  ln -sfn "$PREFIX/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
}

binfmt_ok() {
  local a
  [ -e /proc/sys/fs/binfmt_misc/register ] || return 1
  for a in $QEMU_ARCHES; do [ -e "/proc/sys/fs/binfmt_misc/qemu-$a" ] || return 1; done
}

ensure_binfmt() {
  local a conf
  binfmt_ok && return 0
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    log "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
  fi
  for a in $QEMU_ARCHES; do
    [ -e "/proc/sys/fs/binfmt_misc/qemu-$a" ] && continue
    conf="/usr/lib/binfmt.d/qemu-$a.conf"
    [ -f "$conf" ] || die "$conf missing (is qemu-user-static installed?)"
    log "registering qemu-$a with binfmt_misc"
    grep -v '^[[:space:]]*\(#\|$\)' "$conf" | head -n 1 >/proc/sys/fs/binfmt_misc/register ||
      die "cannot register qemu-$a"
  done
  binfmt_ok || die "binfmt_misc entries are still missing"
}

containerd_ok() {
  pid_alive "$RUN/containerd.pid" containerd &&
    "$PREFIX/usr/bin/ctr" --address "$CONTAINERD_SOCK" --timeout 3s version >/dev/null 2>&1
}

ensure_containerd() {
  containerd_ok && return 0
  mkdir -p "$STACK/containerd/root" "$STACK/containerd/state" "$STACK/containerd/opt" "$RUN"
  cat >"$STACK/containerd/config.toml" <<EOF
version = 2
root = "$STACK/containerd/root"
state = "$STACK/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STACK/containerd/opt"
EOF
  if pid_alive "$RUN/containerd.pid" containerd; then
    stop_pidfile "$RUN/containerd.pid" containerd containerd
  fi
  rm -f "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
  log "starting containerd"
  spawn containerd "$RUN/containerd.pid" "$PREFIX/usr/bin/containerd" --config "$STACK/containerd/config.toml"
  wait_for 30 containerd containerd containerd_ok
}

dockerd_ok() {
  [ -S "$DOCKER_SOCK" ] && curl -sf --max-time 3 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1
}

ensure_dockerd() {
  if dockerd_ok && pid_alive "$RUN/dockerd.pid" dockerd; then return 0; fi
  mkdir -p "$STACK/docker/data" "$RUN/dexec" "$STACK/docker/config"
  cat >"$STACK/docker/daemon.json" <<EOF
{
  "hosts": ["unix://$DOCKER_SOCK"],
  "data-root": "$STACK/docker/data",
  "exec-root": "$RUN/dexec",
  "pidfile": "$RUN/dockerd.pid",
  "containerd": "$CONTAINERD_SOCK",
  "features": { "containerd-snapshotter": true, "buildkit": true },
  "bridge": "none",
  "iptables": false,
  "ip6tables": false,
  "ip-forward": false,
  "ip-masq": false,
  "userland-proxy": false,
  "insecure-registries": ["$REGISTRY_ADDR"],
  "max-concurrent-uploads": 1,
  "default-runtime": "runc",
  "log-driver": "json-file"
}
EOF
  if pid_alive "$RUN/dockerd.pid" dockerd; then
    stop_pidfile "$RUN/dockerd.pid" dockerd dockerd
  fi
  rm -f "$DOCKER_SOCK"
  log "starting dockerd"
  spawn dockerd "$RUN/dockerd.spawn.pid" "$PREFIX/usr/sbin/dockerd" --config-file "$STACK/docker/daemon.json"
  wait_for 60 dockerd dockerd dockerd_ok
  # dockerd writes its own pid file; fall back to the spawned pid
  pid_alive "$RUN/dockerd.pid" dockerd || cp "$RUN/dockerd.spawn.pid" "$RUN/dockerd.pid"
  rm -f "$RUN/dockerd.spawn.pid"
  sdocker info >/dev/null 2>&1 || { show_log dockerd; die "docker info failed"; }
}

registry_ok() { curl -sf --max-time 3 -o /dev/null "http://$REGISTRY_ADDR/v2/"; }

registry_start() {
  if pid_alive "$RUN/registry.pid" docker-registry && registry_ok; then return 0; fi
  if ! pid_alive "$RUN/registry.pid" docker-registry && registry_ok; then
    log "something else already serves a registry on $REGISTRY_ADDR; using it"
    return 0
  fi
  command -v docker-registry >/dev/null || die "docker-registry is not installed (run: $0 up)"
  mkdir -p "$STACK/registry/data"
  cat >"$STACK/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STACK/registry/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  stop_pidfile "$RUN/registry.pid" docker-registry registry 5 2>/dev/null
  log "starting registry on $REGISTRY_ADDR"
  spawn registry "$RUN/registry.pid" docker-registry serve "$STACK/registry/config.yml"
  wait_for 30 registry registry registry_ok
}

registry_stop() {
  local i
  stop_pidfile "$RUN/registry.pid" docker-registry registry 10
  for ((i = 0; i < 50; i++)); do registry_ok || return 0; sleep 0.1; done
  die "a registry still answers on $REGISTRY_ADDR (not started by this script?)"
}

# Does the registry hold the 5-platform base image?
base_image_ok() {
  local idx p
  idx="$(curl -sf --max-time 5 \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$REGISTRY_ADDR/v2/$BASE_REPO/manifests/$BASE_TAG")" || return 1
  for p in amd64 arm64 ppc64le s390x '"arm"'; do
    case "$idx" in *"$p"*) ;; *) return 1 ;; esac
  done
}

buildx_ok() { sdocker buildx version >/dev/null 2>&1; }

ensure_base_image() {
  base_image_ok && return 0
  local ctx="$STACK/base" debdir="$STACK/debs/busybox" spec plat arch name tmp
  mkdir -p "$ctx" "$debdir"
  local need=()
  for spec in $PLATFORM_TABLE; do
    arch="$(cut -d: -f2 <<<"$spec")"
    compgen -G "$debdir/busybox-static_*_${arch}.deb" >/dev/null || need+=("busybox-static:$arch")
  done
  if [ ${#need[@]} -gt 0 ]; then
    private_apt bookworm-multiarch bookworm amd64 arm64 armhf ppc64el s390x
    private_apt_update bookworm-multiarch
    log "downloading ${need[*]}"
    (cd "$debdir" && apt-get "${APT_OPTS[@]}" -q download "${need[@]}") >>"$LOGS/apt.log" 2>&1 ||
      { show_log apt; die "apt-get download busybox-static failed"; }
  fi
  for spec in $PLATFORM_TABLE; do
    plat="$(cut -d: -f1 <<<"$spec")"
    arch="$(cut -d: -f2 <<<"$spec")"
    # file name = TARGETARCH + TARGETVARIANT, e.g. busybox-armv7
    name="busybox-$(cut -d/ -f2 <<<"$plat")$(cut -d/ -f3 -s <<<"$plat")"
    if [ ! -s "$ctx/$name" ]; then
      tmp="$(mktemp -d)"
      dpkg -x "$(compgen -G "$debdir/busybox-static_*_${arch}.deb" | head -n 1)" "$tmp"
      cp "$tmp/bin/busybox" "$ctx/$name"
      chmod 0755 "$ctx/$name"
      rm -rf "$tmp"
    fi
  done
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
ARG TARGETVARIANT
COPY busybox-${TARGETARCH}${TARGETVARIANT} /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["/bin/sh"]
EOF
  log "building and pushing $BASE_IMAGE for $PLATFORMS"
  local t0
  t0="$(now_ms)"
  if ! sdocker buildx build --builder default --platform "$PLATFORMS" --provenance=false \
    --network none --progress plain --push -t "$BASE_IMAGE" "$ctx" >>"$LOGS/base-build.log" 2>&1; then
    show_log base-build
    die "building the base image failed"
  fi
  log "base image pushed in $(($(now_ms) - t0)) ms"
  base_image_ok || die "the registry does not list all platforms of $BASE_IMAGE after the push"
}

# Multi-platform support of the default builder + a container per platform.
deep_verify() {
  local ok=0 plats spec plat want got
  plats="$(sdocker buildx inspect default 2>/dev/null | awk -F': *' '/^Platforms:/ { print $2 }')"
  # BuildKit's own probe does not list linux/arm/v7 with bookworm's qemu-arm
  # although arm/v7 builds and runs work (checked by the runs below), so only
  # the other emulated platforms are required in the list.
  for plat in linux/amd64 linux/arm64 linux/ppc64le linux/s390x; do
    case ",$(tr -d ' ' <<<"$plats")," in
      *",$plat,"*) ;;
      *) log "buildx default builder lacks $plat (platforms: $plats)"; ok=1 ;;
    esac
  done
  [ $ok = 0 ] && log "buildx default builder platforms: $plats"
  for spec in $PLATFORM_TABLE; do
    plat="$(cut -d: -f1 <<<"$spec")"
    want="$(cut -d: -f3 <<<"$spec")"
    got="$(sdocker run --rm --network none --pull always --platform "$plat" "$BASE_IMAGE" uname -m 2>>"$LOGS/verify.log" </dev/null)" || got="(failed)"
    if [ "$got" = "$want" ]; then
      log "run $plat: $got"
    else
      log "run $plat: got '$got', expected '$want'"
      ok=1
    fi
  done
  return $ok
}

quick_ok() {
  plugins_ok && binfmt_ok && containerd_ok && pid_alive "$RUN/dockerd.pid" dockerd && dockerd_ok &&
    registry_ok && base_image_ok && [ -f "$STACK/.verified" ]
}

lock() {
  mkdir -p "$STACK"
  exec 9>"$STACK/.lock"
  if ! flock -w 900 9; then die "could not lock $STACK/.lock within 900s"; fi
}

require_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# -------------------------------------------------------------- commands --
cmd_up() {
  require_root
  lock
  local t0
  t0="$(now_ms)"
  # Packages first, also on a running stack: one added to SYSTEM_PKGS arrives with the next `up`.
  ensure_system_packages
  if quick_ok; then
    log "stack already up ($(($(now_ms) - t0)) ms)"
    echo "DOCKER_HOST=unix://$DOCKER_SOCK"
    return 0
  fi
  mkdir -p "$RUN" "$LOGS"
  ensure_prefix
  ensure_plugins
  ensure_binfmt
  ensure_containerd
  ensure_dockerd
  registry_start
  buildx_ok || die "docker buildx does not work with $DOCKER_SOCK"
  ensure_base_image
  if [ ! -f "$STACK/.verified" ]; then
    log "verifying multi-platform builder and emulated runs"
    deep_verify || die "verification failed (see messages above and $LOGS/verify.log)"
    date -Is >"$STACK/.verified"
  fi
  log "stack up in $(($(now_ms) - t0)) ms"
  echo "DOCKER_HOST=unix://$DOCKER_SOCK"
}

cmd_down() {
  require_root
  lock
  stop_pidfile "$RUN/dockerd.pid" dockerd dockerd 30
  stop_pidfile "$RUN/containerd.pid" containerd containerd 20
  stop_pidfile "$RUN/registry.pid" docker-registry registry 10
  rm -f "$DOCKER_SOCK" "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
}

report() { # report LABEL OK(0/1) [DETAIL]
  if [ "$2" = 0 ]; then printf '%-12s ok   %s\n' "$1" "${3:-}"; else printf '%-12s FAIL %s\n' "$1" "${3:-}"; fi
}

cmd_status() {
  local deep=0 rc=0 s a missing=""
  [ "${1:-}" = "--deep" ] && deep=1
  containerd_ok && s=0 || s=1; report containerd $s "$CONTAINERD_SOCK"; [ $s = 0 ] || rc=1
  dockerd_ok && s=0 || s=1
  report dockerd $s "$([ $s = 0 ] && sdocker version --format 'server {{.Server.Version}}' 2>/dev/null) unix://$DOCKER_SOCK"
  [ $s = 0 ] || rc=1
  registry_ok && s=0 || s=1; report registry $s "http://$REGISTRY_ADDR"; [ $s = 0 ] || rc=1
  if dockerd_ok && buildx_ok; then s=0; else s=1; fi
  report buildx $s "$(sdocker buildx version 2>/dev/null | awk '{print $2}')"; [ $s = 0 ] || rc=1
  if [ -e /proc/sys/fs/binfmt_misc/register ]; then
    for a in $QEMU_ARCHES; do [ -e "/proc/sys/fs/binfmt_misc/qemu-$a" ] || missing="$missing $a"; done
  else missing=" (binfmt_misc not mounted)"; fi
  [ -z "$missing" ] && s=0 || s=1
  report binfmt $s "$([ $s = 0 ] && echo "qemu-{${QEMU_ARCHES// /,}}" || echo "missing:$missing")"; [ $s = 0 ] || rc=1
  base_image_ok && s=0 || s=1; report base-image $s "$BASE_IMAGE"; [ $s = 0 ] || rc=1
  if [ $deep = 1 ] && [ $rc = 0 ]; then
    deep_verify && s=0 || s=1; report deep-check $s "buildx platforms + docker run per platform"; [ $s = 0 ] || rc=1
  fi
  # An engine the caller already points at (DOCKER_HOST) may be usable too.
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$DOCKER_SOCK" ]; then
    if docker info >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1 && base_image_ok; then
      report external 0 "DOCKER_HOST=$DOCKER_HOST has buildx and the base image is in the registry"
      if [ $rc != 0 ]; then echo "stack: own stack incomplete, external engine usable"; rc=0; fi
    else
      report external 1 "DOCKER_HOST=$DOCKER_HOST is not usable (engine, buildx or base image missing)"
    fi
  fi
  [ $rc = 0 ] && echo "stack: usable (DOCKER_HOST=unix://$DOCKER_SOCK)" || echo "stack: NOT usable (run: bash scripts/local-stack.sh up)"
  return $rc
}

# engine-up/engine-down: the same containerd and dockerd set-up, under engines/NAME
# (the prefix, bin and registry stay the main stack's).
engine_dirs() { # engine_dirs NAME
  [[ "${1:-}" =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] || die "engine name must be [a-z0-9-], at most 32 characters (got '${1:-}')"
  STACK="$STACK/engines/$1"
  RUN="$STACK/run"
  LOGS="$STACK/logs"
  DOCKER_SOCK="$RUN/docker.sock"
  CONTAINERD_SOCK="$RUN/containerd.sock"
}

cmd_engine_up() {
  require_root
  lock
  quick_ok || die "the main stack is not up: run $0 up first"
  engine_dirs "$1"
  mkdir -p "$RUN" "$LOGS"
  ensure_containerd
  ensure_dockerd
  buildx_ok || die "docker buildx does not work with $DOCKER_SOCK"
  log "engine $1 up"
  echo "DOCKER_HOST=unix://$DOCKER_SOCK"
}

cmd_engine_down() {
  require_root
  lock
  engine_dirs "$1"
  stop_pidfile "$RUN/dockerd.pid" dockerd "dockerd ($1)" 30
  stop_pidfile "$RUN/containerd.pid" containerd "containerd ($1)" 20
  rm -f "$DOCKER_SOCK" "$CONTAINERD_SOCK" "$CONTAINERD_SOCK.ttrpc"
}

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) shift; cmd_status "${1:-}" ;;
  env) echo "export DOCKER_HOST=unix://$DOCKER_SOCK" ;;
  registry-start) require_root; lock; mkdir -p "$RUN" "$LOGS"; registry_start; log "registry up on $REGISTRY_ADDR" ;;
  registry-stop) require_root; lock; registry_stop ;;
  engine-up) cmd_engine_up "${2:-}" ;;
  engine-down) cmd_engine_down "${2:-}" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
