#!/usr/bin/env bash
# Builds the container image gatehouse:latest from the Dockerfile with podman, on a machine that
# reaches Debian's package archive but no container registry (make image):
#
#   scripts/build-image.sh [--no-cache]
#
# 1. The base: when the store has no debian:bookworm-slim, mmdebstrap makes a stand-in from
#    Debian's archive (minbase, merged /usr, trimmed like the official slim image: no manuals,
#    documentation or translations, and its dpkg and apt settings for later installs) and
#    `podman import` names it docker.io/library/debian:bookworm-slim, the name the Dockerfile's
#    FROM means. Skipped when it exists; GATEHOUSE_IMAGE_REBASE=1 makes it anew.
# 2. The image: `podman build --pull=never --format docker` of the unchanged Dockerfile (the
#    docker format keeps HEALTHCHECK, which the OCI format drops). Layers are cached, so a
#    rebuild with nothing changed takes seconds; --no-cache rebuilds every layer.
#
# Everything podman keeps lives under build/podman/ (scripts/podman.sh). The figures (seconds
# for the base and the image, the image size) are printed and kept in build/podman/figures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
podman=("$root/scripts/podman.sh")
dir=${GATEHOUSE_PODMAN_DIR:-$root/build/podman}
base=docker.io/library/debian:bookworm-slim
image=${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}
mirror=${GATEHOUSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${GATEHOUSE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

log() { printf 'build-image: %s\n' "$*" >&2; }

# mmdebstrap's customize hook: trims the tree in $1 as the official slim image is trimmed
# and leaves the dpkg settings that keep later installs trimmed (and fast) as that image does.
if [ "${1:-}" = --slim-hook ]; then
    r=$2
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    echo force-unsafe-io >"$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
        >"$r/etc/apt/apt.conf.d/docker-clean"
    echo 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' \
        >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r"/usr/share/man/* "$r"/usr/share/groff/* "$r"/usr/share/info/* \
        "$r"/usr/share/lintian/* "$r"/usr/share/linda/*
    find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
    exit 0
fi

no_cache=()
for arg in "$@"; do
    case "$arg" in
        --no-cache) no_cache=(--no-cache) ;;
        *) log "unknown argument '$arg' (expected: --no-cache)"; exit 2 ;;
    esac
done

mkdir -p "$dir"
figures=$dir/figures
touch "$figures"
# figure NAME VALUE: records one figure, replacing its earlier value.
figure() {
    { grep -v "^$1=" "$figures" || true; echo "$1=$2"; } >"$figures.tmp"
    mv "$figures.tmp" "$figures"
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "${GATEHOUSE_IMAGE_REBASE:-0}" = 1 ] || ! "${podman[@]}" image exists "$base"; then
    command -v mmdebstrap >/dev/null 2>&1 || { log "mmdebstrap is missing: scripts/install-deps.sh image"; exit 1; }
    log "making the base $base with mmdebstrap from $mirror"
    t0=$(now)
    tarball=$dir/base.tar
    rm -f "$tarball"
    mmdebstrap --variant=minbase --quiet \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt=force-unsafe-io \
        --customize-hook="\"$root/scripts/build-image.sh\" --slim-hook \"\$1\"" \
        bookworm "$tarball" \
        "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
        "deb $security bookworm-security main"
    "${podman[@]}" import --change 'CMD ["bash"]' "$tarball" "$base" >/dev/null
    rm -f "$tarball"
    base_s=$(since "$t0")
    figure base_seconds "$base_s"
    log "base made in $base_s s"
else
    log "base $base present"
fi

log "building $image"
t0=$(now)
"${podman[@]}" build --pull=never --format docker ${no_cache[@]+"${no_cache[@]}"} \
    -t "$image" -f "$root/Dockerfile" "$root" 2>&1 | tee "$dir/build.log"
build_s=$(since "$t0")
size=$("${podman[@]}" image inspect "$image" --format '{{.Size}}')
# Steps after FROM, how many came from the layer cache, and how many RUN steps did: a build is
# cold when every RUN ran (a metadata step may still match one of the same build), warm when
# every step came from the cache.
read -r steps cached runs_cached < <(awk '
    / STEP [0-9]+\/[0-9]+: / { step = $0 ~ /: FROM / ? "" : ($0 ~ /: RUN / ? "run" : "other");
                                if (step != "") steps++ }
    /^--> Using cache/ && step != "" { cached++; if (step == "run") runs++ }
    END { print steps + 0, cached + 0, runs + 0 }' "$dir/build.log")
if [ "$cached" -ge "$steps" ]; then kind=warm; elif [ "$runs_cached" -eq 0 ]; then kind=cold; else kind=partly; fi
[ "$kind" = partly ] || figure "build_seconds_$kind" "$build_s"
figure image_bytes "$size"
figure last_build_seconds "$build_s"
figure last_build_cache "($cached of $steps steps from the cache)"
log "image $image built in $build_s s ($cached of $steps steps from the cache), $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
