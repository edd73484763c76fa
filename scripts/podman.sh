#!/usr/bin/env bash
# Runs podman with a configuration and a store of this checkout's own, under build/podman/:
#
#   scripts/podman.sh ARGS...      # as `podman ARGS...`
#
# The image targets (make image, make image-test) use only this, so what they build and run
# never mixes with the machine's own podman store or another checkout's. The configuration
# is chosen with CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF (each
# file is then the only one podman reads) and rewritten whenever its content would change:
#
#   * runc as the runtime and cgroupfs as the cgroup manager: they work on machines without
#     systemd and with a mixed cgroup v1/v2 layout, where crun and the systemd manager do not;
#   * default ulimits (nofile, nproc) no higher than this shell's hard limits: podman's
#     defaults are above them in a sandbox that cannot raise limits, and every container
#     would fail to start;
#   * the overlay store, run root, temp files, volumes and event log under build/podman/;
#   * short image names resolve to docker.io, as with `docker build`, so the Dockerfile's
#     `FROM debian:bookworm-slim` finds the local stand-in scripts/build-image.sh imports.
#
# GATEHOUSE_PODMAN_DIR moves the whole state elsewhere (an absolute path).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${GATEHOUSE_PODMAN_DIR:-$root/build/podman}
command -v podman >/dev/null 2>&1 || {
    echo "podman.sh: podman is not installed; run scripts/install-deps.sh image" >&2
    exit 1
}
mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/volumes"

# A hard limit capped at $2 ("unlimited" counts as above any cap).
capped() {
    local hard=$1 cap=$2
    if [ "$hard" = unlimited ] || [ "$hard" -gt "$cap" ]; then echo "$cap"; else echo "$hard"; fi
}
nofile=$(capped "$(ulimit -Hn)" 65536)
nproc=$(capped "$(ulimit -Hu)" 32768)

# Writes file $1 from standard input unless it already holds exactly that.
put() {
    local new
    new=$(cat)
    [ -f "$1" ] && [ "$(cat "$1")" = "$new" ] && return 0
    printf '%s\n' "$new" >"$1.tmp.$$" && mv "$1.tmp.$$" "$1"
}

put "$dir/storage.conf" <<EOF
# Written by scripts/podman.sh: the image store of this checkout.
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/run"
EOF

put "$dir/containers.conf" <<EOF
# Written by scripts/podman.sh: podman's settings for this checkout.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/tmp"
volume_path = "$dir/volumes"
image_copy_tmp_dir = "$dir/tmp"

[network]
network_config_dir = "$dir/networks"
EOF

put "$dir/registries.conf" <<EOF
# Written by scripts/podman.sh: short names mean Docker Hub, as with docker build.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF

export CONTAINERS_CONF="$dir/containers.conf"
export CONTAINERS_STORAGE_CONF="$dir/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$dir/registries.conf"
export TMPDIR="$dir/tmp"
exec podman "$@"
