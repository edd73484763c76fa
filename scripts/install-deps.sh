#!/usr/bin/env bash
# Install what gatehouse needs to build, test and benchmark on Debian 12.
#
#   scripts/install-deps.sh [build] [test] [bench] [fuzz] [image] [image-test] [node] ...
#
# Groups (no argument means "build"):
#   build  compiler, make, pkg-config and the -dev packages of the libraries; then
#          libmicrohttpd 1.0 from Debian's source archive, built into .deps/libmicrohttpd
#          (scripts/build-libmicrohttpd.sh: Debian 12's package is 0.9.75)
#   test   build + cmocka, the sqlite3 shell, valgrind, PostgreSQL, Redis, Chromium, and
#          PyJWT with python3-cryptography (an independent verifier of access tokens, and
#          the Python example service)
#   bench  wrk, nginx-light (the reference server of bench/run.sh), curl, and PyJWT for the
#          Python example service it measures
#   fuzz   build + clang and its sanitizer and libFuzzer runtimes
#   image  podman with runc, and mmdebstrap: build the container image without a registry
#          (make image); slirp4netns, uidmap and fuse-overlayfs for podman without root
#   image-test  image + PostgreSQL and Redis, which make image-test starts on loopback
#   node   `npm ci` in the repository root, only when node_modules is missing
#          or older than package-lock.json
#
# Idempotent and fast when everything is present: apt-get runs only when at
# least one package is missing. Node.js itself is never installed from apt
# (the machine has Node 20 from the vendor package; Debian's would be older).
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pkgs_build=(gcc make pkg-config curl patch libsodium-dev libjansson-dev
            libsqlite3-dev libcurl4-openssl-dev libpq-dev libhiredis-dev libssl-dev
            libargon2-dev)
pkgs_test=("${pkgs_build[@]}" libcmocka-dev sqlite3 valgrind python3-botocore
           postgresql redis-server chromium python3-jwt python3-cryptography
           python3-django python3-argon2 python3-passlib)
pkgs_bench=(wrk nginx-light curl python3-jwt python3-cryptography)
pkgs_fuzz=("${pkgs_build[@]}" clang libclang-rt-14-dev)
pkgs_image=(podman runc slirp4netns uidmap fuse-overlayfs mmdebstrap)
pkgs_image_test=("${pkgs_image[@]}" postgresql redis-server)

[ $# -eq 0 ] && set -- build

want=()
do_node=0
do_mhd=0
for group in "$@"; do
    case "$group" in
        build) want+=("${pkgs_build[@]}"); do_mhd=1 ;;
        test)  want+=("${pkgs_test[@]}"); do_mhd=1 ;;
        bench) want+=("${pkgs_bench[@]}") ;;
        fuzz)  want+=("${pkgs_fuzz[@]}"); do_mhd=1 ;;
        image) want+=("${pkgs_image[@]}") ;;
        image-test) want+=("${pkgs_image_test[@]}") ;;
        node)  do_node=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
        *) die "unknown group '$group' (expected: build, test, bench, fuzz, image, image-test, node)" ;;
    esac
done

# Debian packages: ask dpkg which are missing, install only those.
missing=()
declare -A seen=()
for p in ${want[@]+"${want[@]}"}; do
    [ -n "${seen[$p]:-}" ] && continue
    seen[$p]=1
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo; install by hand: ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
elif [ ${#want[@]} -gt 0 ]; then
    log "Debian packages already installed"
fi

# libmicrohttpd, built once into the checkout (a no-op when it is there).
if [ "$do_mhd" -eq 1 ]; then
    "$repo_root/scripts/build-libmicrohttpd.sh" "$repo_root/.deps/libmicrohttpd"
fi

# npm packages of the test suite.
if [ "$do_node" -eq 1 ]; then
    command -v node >/dev/null 2>&1 || die "node not found (Node 20 is expected from the vendor package; do not install Debian's nodejs)"
    command -v npm >/dev/null 2>&1 || die "npm not found"
    lock="$repo_root/package-lock.json"
    stamp="$repo_root/node_modules/.package-lock.json"
    [ -f "$lock" ] || die "no package-lock.json in $repo_root"
    if [ ! -f "$stamp" ] || [ "$stamp" -ot "$lock" ]; then
        log "running npm ci in $repo_root"
        (cd "$repo_root" && npm ci --no-audit --no-fund)
    else
        log "node_modules up to date"
    fi
fi
