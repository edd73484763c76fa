#!/usr/bin/env bash
# gatehouse under hostile clients (bench/hostile.js does the work; see bench/README.md).
#
#   bash bench/hostile.sh                 all four scenarios (about 3 minutes)
#   bash bench/hostile.sh slow enum       some of them: slow idle upload enum (or 1 2 3 4)
#
# Starts its own gatehouse (GATEHOUSE_BIN, default build/gatehouse) on a loopback port with
# SQLite and file mail in a temporary directory, and removes everything when it ends (also
# on error or Ctrl-C). The report goes to stdout, progress to stderr. Settings are HOSTILE_*
# environment variables, listed in bench/README.md.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

log() { printf 'hostile: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found (Node 20 or newer)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node 20 or newer needed, found $(node --version)"
bin=${GATEHOUSE_BIN:-build/gatehouse}
[ -x "$bin" ] || die "$bin not found or not executable (run make first, or set GATEHOUSE_BIN)"

# Every flood connection is a file descriptor here and one in gatehouse, which inherits this
# limit: raise the soft limit to what the largest scenario needs, if the hard limit allows.
conns=${HOSTILE_CONNECTIONS:-1100}
uploads=${HOSTILE_UPLOADS:-1000}
need=$(( (conns > uploads ? conns : uploads) + 200 ))
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
        ulimit -Sn "$need"
        log "raised the open-files limit from $soft to $need"
    else
        die "the open-files limit is $soft (hard $hard) but $need are needed; raise it (ulimit -n) or lower HOSTILE_CONNECTIONS / HOSTILE_UPLOADS"
    fi
fi

# node cleans up after itself, also on Ctrl-C; if it is killed outright, its cleanup never
# runs: then the server it started is stopped and its temporary directory removed here.
bin_real=$(readlink -f "$bin")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-hostile-XXXXXX")
pidfile="$tmp/gatehouse.pid"
cleanup() {
    local pid
    pid=$(cat "$pidfile" 2>/dev/null || true)
    # Only when that pid is still our gatehouse binary (pids are reused).
    if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin_real" ]; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    [ "${HOSTILE_KEEP:-0}" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT

HOSTILE_TMPDIR=$tmp HOSTILE_PIDFILE=$pidfile GATEHOUSE_BIN=$bin node bench/hostile.js "$@" &
node_pid=$!
# Ctrl-C in a terminal reaches node directly (same process group); a signal sent to this
# script alone is passed on. Either way node stops its clients and the server, then exits.
trap 'kill -INT "$node_pid" 2>/dev/null || true' INT
trap 'kill -TERM "$node_pid" 2>/dev/null || true' TERM HUP
rc=0
while :; do
    wait "$node_pid" && rc=0 || rc=$?
    kill -0 "$node_pid" 2>/dev/null || break
done
exit "$rc"
