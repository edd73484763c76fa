#!/usr/bin/env bash
# Build the libmicrohttpd that gatehouse links statically, from Debian's source archive.
#
#   scripts/build-libmicrohttpd.sh PREFIX
#
# Debian 12 packages libmicrohttpd 0.9.75, which writes the status line and headers of its own
# error answers twice (a request with `Content-Length: -1`, or headers that do not fit the
# connection memory). 1.0 fixed that, so gatehouse builds on 1.0.1: the upstream release as
# Debian 13 ships it (the .orig tarball of its source package), checked against a pinned
# SHA-256, with two changes of gatehouse's (scripts/libmicrohttpd-*.patch, applied in name
# order): json-errors, the error answers the library writes itself, such as 431 for oversized
# headers, have a JSON body like every other answer; pool-reset, a connection's memory is not
# zeroed after every request. Configured without HTTPS, authentication helpers, upgrade support
# or docs, and installed into PREFIX as a static library (PREFIX/lib/libmicrohttpd.a,
# PREFIX/include).
#
# Idempotent: nothing happens when PREFIX already holds this version built with these patches.
# The tarball is kept next to PREFIX, so a rebuild does not download it again;
# LIBMICROHTTPD_URL fetches it from elsewhere (any URL curl reads, file:// too), and its
# SHA-256 is checked all the same. Needs curl (or wget), tar, patch, gcc and make.
set -euo pipefail

version=1.0.1
sha256=a89e09fc9b4de34dde19f4fcb4faaa1ce10299b9908db1132bbfa1de47882b94
url=${LIBMICROHTTPD_URL:-http://deb.debian.org/debian/pool/main/libm/libmicrohttpd/libmicrohttpd_${version}.orig.tar.gz}

log() { printf 'build-libmicrohttpd: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 PREFIX"
prefix=$1
patches=("$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"/libmicrohttpd-*.patch)
[ -f "${patches[0]}" ] || die "no scripts/libmicrohttpd-*.patch next to this script"
build_id="$version $(cat "${patches[@]}" | sha256sum | cut -d' ' -f1)"
stamp="$prefix/.gatehouse-build"

if [ -f "$prefix/lib/libmicrohttpd.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$build_id" ]; then
    log "libmicrohttpd $version already built in $prefix"
    exit 0
fi

cache=$(dirname "$prefix")
mkdir -p "$cache"
tarball="$cache/libmicrohttpd_${version}.orig.tar.gz"

have_tarball() { [ -f "$tarball" ] && echo "$sha256  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1; }

if ! have_tarball; then
    log "downloading $url"
    part="$tarball.part"
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$part" "$url" || die "download failed: $url"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$part" "$url" || die "download failed: $url"
    else
        die "neither curl nor wget is installed (scripts/install-deps.sh installs curl)"
    fi
    echo "$sha256  $part" | sha256sum -c --quiet - >/dev/null 2>&1 ||
        { rm -f "$part"; die "$url does not have the expected SHA-256 $sha256"; }
    mv "$part" "$tarball"
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src="$work/libmicrohttpd-$version"
staging="$work/prefix"

log "building libmicrohttpd $version (static, no HTTPS) into $prefix"
(
    cd "$src"
    for p in "${patches[@]}"; do
        patch -p1 --quiet --forward <"$p"
    done
    ./configure --prefix="$staging" --enable-static --disable-shared --with-pic \
        --enable-build-type=release --enable-compiler-hardening \
        --disable-https --disable-bauth --disable-dauth --disable-httpupgrade \
        --disable-doc --disable-examples --disable-tools --disable-curl >"$work/configure.log" 2>&1 ||
        { tail -n 30 "$work/configure.log" >&2; exit 1; }
    make -j"$(nproc 2>/dev/null || echo 2)" >"$work/make.log" 2>&1 ||
        { tail -n 30 "$work/make.log" >&2; exit 1; }
    make install >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
) || die "the build failed (the output above is the end of its log)"

echo "$build_id" >"$staging/.gatehouse-build"
rm -rf "$prefix"
mv "$staging" "$prefix"
log "libmicrohttpd $version ready in $prefix"
