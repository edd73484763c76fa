#!/usr/bin/env bash
# gatehouse benchmark: throughput, latency, memory and start-up against targets, as ratios to
# references measured in the same run (this machine's speed varies from run to run, so
# absolute numbers mean little; see bench/README.md).
#
#   bash bench/run.sh            (what `make bench` runs; needs build/gatehouse)
#   BENCH_USERS=1000000 BENCH_MODES=sqlite bash bench/run.sh     (`make bench-million`)
#
# For every backend mode in BENCH_MODES it migrates a fresh database (and, with BENCH_USERS,
# fills it with that many users and live sessions), then measures
#   - start-up: exec to the first 200 of /health-check/ (bench/startup.c);
#   - GET /users/current-user/ with a session cookie (and the gh_device cookie), with a Bearer
#     access token, and nginx's `return 200`, rounds interleaved; with BENCH_USERS also a second
#     gatehouse on an empty database of the same backend, in the same rounds;
#   - POST /api/token/refresh/, every request rotating a refresh token never used before (each
#     connection sends the successor the previous answer gave it), against the nginx figure;
#   - POST /users/login/ rounds interleaved with the raw Argon2id verify rate of this machine
#     (bench/hashrate.c, the server's Argon2 parameters);
#   - a login flood at 10x that rate (bench/flood.js) while wrk measures current-user;
#   - 1000 unfinished unauthenticated uploads (bench/uploads.js);
#   - resident memory of the gatehouse process in each phase;
# then prints the figures side by side and a table of targets with PASS or FAIL. Once, with the
# first mode's gatehouse, it also measures the example services of examples/ (PyJWT and jose
# verifying every request's access token with the JWKS alone) against nginx.
#
# Modes
#   sqlite           the default store: SQLite in a fresh data directory
#   postgres         a throwaway PostgreSQL 15 cluster (fsync on) started here
#   postgres+redis   the same, plus a throwaway redis-server for sessions and
#                    rate-limit counters (REDIS_URL)
#
# Environment (all optional; bench/README.md explains each)
#   BENCH_MODES              modes to run        [sqlite postgres postgres+redis]
#   BENCH_USERS              users and live sessions seeded per mode, 0 = none [100000]
#                            (BENCH_SEED: the same, older name)
#   BENCH_BUILD              directory for the compiled helper programs        [build]
#   GATEHOUSE_BIN            server binary                         [build/gatehouse]
#   BENCH_SECONDS            length of one current-user/nginx round, seconds       [3]
#   BENCH_ROUNDS             interleaved current-user/Bearer/nginx rounds          [3]
#   BENCH_THREADS            wrk threads                                           [2]
#   BENCH_CONNECTIONS        wrk connections, cheap requests                      [64]
#   BENCH_REFRESH_SECONDS    length of the refresh run                             [4]
#   BENCH_REFRESH_CONNECTIONS wrk connections, refresh                            [16]
#   BENCH_EXAMPLES           1: measure the example services                       [1]
#   BENCH_EXAMPLE_SECONDS    length of each example run                            [4]
#   BENCH_LOGIN_SECONDS      length of one login round                             [4]
#   BENCH_LOGIN_ROUNDS       interleaved Argon2id/login rounds                     [3]
#   BENCH_LOGIN_CONNECTIONS  wrk connections, login                               [16]
#   BENCH_HASH_SECONDS       length of one Argon2id reference round                [3]
#   BENCH_FLOOD_SECONDS      length of the session check during the flood          [6]
#   BENCH_FLOOD_FACTOR       flood rate as a multiple of the Argon2id rate        [10]
#   BENCH_UPLOADS            unfinished uploads held open                       [1000]
#   BENCH_UPLOAD_SECONDS     how long they are held                                [5]
#   BENCH_STARTUP_RUNS       server starts timed per mode (the first one apart)    [6]
#   BENCH_PG_BIN             PostgreSQL programs       [/usr/lib/postgresql/15/bin]
#   BENCH_SERVER_ENV         extra KEY=VALUE server settings, space-separated
#   BENCH_KEEP=1             keep the temporary directory (logs, configs)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

modes_str=${BENCH_MODES:-sqlite postgres postgres+redis}
# users and live sessions seeded per mode (BENCH_SEED is the older name)
seed=${BENCH_USERS:-${BENCH_SEED:-100000}}
hb=${BENCH_BUILD:-build}   # where the helper programs are compiled to
bin=${GATEHOUSE_BIN:-build/gatehouse}
secs=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-3}
wrk_threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
refresh_secs=${BENCH_REFRESH_SECONDS:-4}
refresh_conns=${BENCH_REFRESH_CONNECTIONS:-16}
examples=${BENCH_EXAMPLES:-1}
example_secs=${BENCH_EXAMPLE_SECONDS:-4}
login_secs=${BENCH_LOGIN_SECONDS:-4}
login_rounds=${BENCH_LOGIN_ROUNDS:-3}
login_conns=${BENCH_LOGIN_CONNECTIONS:-16}
hash_secs=${BENCH_HASH_SECONDS:-3}
flood_secs=${BENCH_FLOOD_SECONDS:-6}
flood_factor=${BENCH_FLOOD_FACTOR:-10}
uploads=${BENCH_UPLOADS:-1000}
upload_secs=${BENCH_UPLOAD_SECONDS:-5}
startup_runs=${BENCH_STARTUP_RUNS:-6}
pg_bin=${BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
cores=$(nproc)
t_start=$(date +%s)

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- checks
for v in seed secs rounds wrk_threads conns refresh_secs refresh_conns example_secs login_secs login_rounds login_conns hash_secs \
         flood_secs flood_factor uploads upload_secs startup_runs; do
    case "${!v}" in
        ''|*[!0-9]*) die "$v must be a whole number, got '${!v}'" ;;
    esac
done
[ "$seed" -le 100000000 ] || die "BENCH_USERS is at most 100000000"
if [ "$rounds" -lt 1 ] || [ "$login_rounds" -lt 1 ] || [ "$startup_runs" -lt 2 ]; then
    die "BENCH_ROUNDS and BENCH_LOGIN_ROUNDS must be at least 1, BENCH_STARTUP_RUNS at least 2"
fi
read -r -a modes <<<"$modes_str"
[ "${#modes[@]}" -gt 0 ] || die "BENCH_MODES is empty"
need_pg=0 need_redis=0
seen=" "
for mode in "${modes[@]}"; do
    case "$mode" in
        sqlite) ;;
        postgres) need_pg=1 ;;
        postgres+redis) need_pg=1; need_redis=1 ;;
        *) die "unknown mode '$mode' in BENCH_MODES (sqlite, postgres, postgres+redis)" ;;
    esac
    case "$seen" in *" $mode "*) die "mode $mode named twice in BENCH_MODES" ;; esac
    seen="$seen$mode "
done

for tool in wrk nginx cc pkg-config curl awk node; do
    command -v "$tool" >/dev/null 2>&1 \
        || die "$tool not found (scripts/install-deps.sh build bench installs what is missing; Node 20 comes from its vendor package)"
done
[ -x "$bin" ] || die "$bin not found or not executable (run make first)"
for lib in libsodium sqlite3; do
    pkg-config --exists "$lib" || die "$lib not found by pkg-config (scripts/install-deps.sh build)"
done
if [ "$need_pg" = 1 ]; then
    for prog in initdb pg_ctl createdb psql; do
        [ -x "$pg_bin/$prog" ] || die "$pg_bin/$prog not found (PostgreSQL 15 server; set BENCH_PG_BIN, or leave the postgres modes out of BENCH_MODES)"
    done
    if [ "$(id -u)" -eq 0 ]; then
        command -v runuser >/dev/null 2>&1 || die "runuser not found (needed to run PostgreSQL as the postgres user)"
        id -u postgres >/dev/null 2>&1 || die "no postgres user (initdb refuses to run as root)"
    fi
fi
if [ "$need_redis" = 1 ]; then
    command -v redis-server >/dev/null 2>&1 \
        || die "redis-server not found (or leave postgres+redis out of BENCH_MODES)"
    if [ "$seed" -gt 0 ]; then
        command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (needed to seed Redis)"
    fi
fi

[ "$refresh_conns" -ge "$wrk_threads" ] \
    || die "BENCH_REFRESH_CONNECTIONS ($refresh_conns) must be at least BENCH_THREADS ($wrk_threads)"
python=/usr/bin/python3   # Debian's interpreter, the one that sees python3-jwt
if [ "$examples" = 1 ]; then
    "$python" -c 'import jwt, cryptography' 2>/dev/null \
        || die "PyJWT not found for $python (scripts/install-deps.sh bench installs python3-jwt; or BENCH_EXAMPLES=0)"
    (cd examples/node-service && node -e "import('jose').catch(() => process.exit(1))") \
        || die "npm jose not found (scripts/install-deps.sh node; or BENCH_EXAMPLES=0)"
fi

# The uploads and the flood each hold about a thousand connections: a descriptor here and one
# in gatehouse, which inherits this limit.
need_fds=$(( uploads + 1200 ))
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need_fds" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$need_fds" ]; then
        ulimit -Sn "$need_fds"
    else
        die "the open-files limit is $soft (hard $hard) but $need_fds are needed; raise it (ulimit -n) or lower BENCH_UPLOADS"
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
declare -A srv_pid=()   # gatehouse processes by name: main, empty
nginx_pid=""
redis_pid=""
pg_data=""     # data directory of the running PostgreSQL cluster, if any
bg_pids=()     # samplers, flood and upload clients
py_pid=""      # the example services
node_pid=""

# as_pg PROGRAM ARGS...: run a PostgreSQL program as the postgres user when we
# are root (initdb and postgres refuse to run as root), else as ourselves; in a
# directory that user may enter.
as_pg() {
    local prog=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$pg_bin/$prog" "$@")
    else
        (cd / && "$pg_bin/$prog" "$@")
    fi
}

# stop_pid PID: TERM, up to 5 s of grace, then KILL; reap it if it is our child.
stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# stop_pg: stop the running cluster (fast shutdown; immediate, then KILL of the
# postmaster when that fails). Safe to call when none runs.
stop_pg() {
    [ -n "$pg_data" ] || return 0
    local data=$pg_data pm
    pg_data=""
    [ -f "$data/postmaster.pid" ] || return 0
    as_pg pg_ctl stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1 \
        || as_pg pg_ctl stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1 \
        || true
    if [ -f "$data/postmaster.pid" ]; then
        pm=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
        case "$pm" in
            ''|*[!0-9]*) ;;
            *) kill -KILL "$pm" 2>/dev/null || true ;;
        esac
    fi
}

# stop_mode_processes: the servers, clients, database and Redis of the current mode.
stop_mode_processes() {
    local p name
    for p in ${bg_pids[@]+"${bg_pids[@]}"}; do stop_pid "$p"; done
    bg_pids=()
    for name in "${!srv_pid[@]}"; do stop_pid "${srv_pid[$name]}"; done
    srv_pid=()
    stop_pg
    stop_pid "$redis_pid"
    redis_pid=""
}

# Stop what this script started and remove its temporary directory.
# shellcheck disable=SC2317  # called through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$py_pid"
    stop_pid "$node_pid"
    py_pid="" node_pid=""
    stop_mode_processes
    stop_pid "$nginx_pid"
    nginx_pid=""
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: print a loopback TCP port that nobody listens on right now.
free_port() {
    local port
    for _ in $(seq 50); do
        # below Linux's ephemeral range (32768 and up), where the local ends of the
        # many client connections of this run (and of anything else on the machine)
        # would make a bind fail with "Address already in use"
        port=$(( 20000 + RANDOM % 12000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found"
}

# wait_http URL: wait up to 10 s until URL answers at all.
wait_http() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# wrk_field FILE WHAT: pull one number out of a wrk report.
#   rps   requests per second
#   p50   median latency in ms        p99   99th percentile latency in ms
#   non2xx  count of non-2xx/3xx answers (0 when wrk printed none)
#   errors  socket errors (connect + read + write + timeout)
wrk_field() {
    awk -v what="$2" '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/)  return v * 60000
            if (v ~ /s$/)  return v * 1000
            return v + 0
        }
        /^Requests\/sec:/                 { rps = $2 }
        /^ +50%/                          { p50 = ms($2) }
        /^ +99%/                          { p99 = ms($2) }
        /Non-2xx or 3xx responses:/       { non2xx = $NF }
        /Socket errors:/                  { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
        END {
            if (what == "rps")    printf "%.0f\n", rps
            if (what == "p50")    printf "%.2f\n", p50
            if (what == "p99")    printf "%.2f\n", p99
            if (what == "non2xx") printf "%d\n", non2xx
            if (what == "errors") printf "%d\n", errors
        }' "$1"
}

# ratio A B: A / B with two decimals, "n/a" when B is 0 or either is not a number.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}
# mean N...: the mean of the arguments, two decimals.
mean() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { printf "%.2f\n", n ? s / n : 0 }'; }
# median N...: the median of the arguments, two decimals. Latency percentiles of the rounds are
# combined with it: one round disturbed by other work on the machine does not move it.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (!NR) print "0.00"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]
        else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# kv LINE KEY: the value of KEY=VALUE in a line of such words.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# rss PID: the process's resident memory in KiB (0 when it is gone), without forking.
rss() {
    local k v _
    while read -r k v _; do
        [ "$k" = VmRSS: ] && { echo "$v"; return 0; }
    done <"/proc/$1/status" 2>/dev/null || true
    echo 0
}
# bg_forget PID: drop a finished background process from bg_pids (its pid may be reused).
bg_forget() {
    local p keep=()
    for p in ${bg_pids[@]+"${bg_pids[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
    bg_pids=(${keep[@]+"${keep[@]}"})
}
# sampler_start PID FILE: sample PID's VmRSS every 100 ms into FILE until sampler_stop.
sampler_pid=""
sampler_start() {
    local pid=$1 file=$2
    ( while kill -0 "$pid" 2>/dev/null; do rss "$pid"; sleep 0.1; done ) >"$file" &
    sampler_pid=$!
    bg_pids+=("$sampler_pid")
}
# sampler_stop FILE: stop the sampler, print the largest sample in KiB.
sampler_stop() {
    stop_pid "$sampler_pid"
    bg_forget "$sampler_pid"
    sampler_pid=""
    sort -n "$1" | tail -n 1
}

# ---------------------------------------------------------------- helper programs
mkdir -p "$hb"
log "compiling bench/hashrate.c, bench/seed.c, bench/startup.c"
cflags=(-O2 -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE)
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
cc "${cflags[@]}" bench/hashrate.c $(pkg-config --cflags --libs libsodium) -lpthread \
    -o "$hb"/bench-hashrate
# shellcheck disable=SC2046
cc "${cflags[@]}" bench/seed.c $(pkg-config --cflags --libs libsodium sqlite3) -o "$hb"/bench-seed
cc "${cflags[@]}" bench/startup.c -o "$hb"/bench-startup

# ---------------------------------------------------------------- server settings
# What every gatehouse of the run gets; per mode the data directory, DATABASE_URL and
# REDIS_URL are added. The caller's environment is passed on too (as before), with these
# settings and BENCH_SERVER_ENV on top.
base_env=(
    GATEHOUSE_LOG_FORMAT=json
    GATEHOUSE_LOG_REQUESTS=0
    # One client address hammers login on purpose: lift the per-IP and per-account limits so
    # the run measures hashing, not the rate limiter (which answers 429 in microseconds).
    GATEHOUSE_RATE_IP_MAX=100000000
    GATEHOUSE_RATE_ACCOUNT_MAX=100000000
    GATEHOUSE_RATE_ACCOUNT_CEILING=100000000
    # The Bearer rounds use one access token for the whole mode.
    GATEHOUSE_ACCESS_TOKEN_TTL=3600
)
# shellcheck disable=SC2206  # word splitting of the extra settings is wanted
[ -n "${BENCH_SERVER_ENV:-}" ] && base_env+=(${BENCH_SERVER_ENV})

# The server's effective settings, as it reads them: the Argon2 parameters for the reference,
# the hash pool's size for the flood.
settings=$(env "${base_env[@]}" GATEHOUSE_DATA_DIR="$tmp/config-probe" "$bin" config) \
    || die "$bin config failed"
setting() { printf '%s\n' "$settings" | sed -n "s/^$1=//p"; }
argon2_mem=$(setting GATEHOUSE_ARGON2_MEMORY_KIB)
argon2_iter=$(setting GATEHOUSE_ARGON2_ITERATIONS)
hash_threads=$(setting GATEHOUSE_HASH_THREADS)
hash_queue=$(setting GATEHOUSE_HASH_QUEUE)
if [ -z "$argon2_mem" ] || [ -z "$argon2_iter" ]; then
    die "no Argon2 parameters in '$bin config'"
fi
[ "${hash_threads:-0}" = 0 ] && hash_threads=$cores
log "server Argon2id: m=$argon2_mem KiB, t=$argon2_iter; hash pool $hash_threads threads, queue $hash_queue"

seed_hash=""
if [ "$seed" -gt 0 ]; then
    seed_hash=$("$hb"/bench-seed hash "$argon2_iter" "$argon2_mem")
fi

# ---------------------------------------------------------------- reference: nginx
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
nginx_user=""
if [ "$(id -u)" -eq 0 ]; then
    # As root the workers would drop to "nobody"; keep them as the current user.
    nginx_user="user $(id -un) $(id -gn);"
fi
cat > "$tmp/nginx/nginx.conf" <<EOF
$nginx_user
daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            default_type application/json;
            return 200 '{"ok":true}';
        }
    }
}
EOF
log "starting nginx on 127.0.0.1:$nginx_port"
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
    >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/" || {
    cat "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start"
}

# ---------------------------------------------------------------- backends
# start_postgres DIR: initdb a cluster under DIR (handed to the postgres user),
# start it on a free loopback port with fsync on, create the gatehouse
# database; sets pg_data, pg_port and pg_url.
pg_url="" pg_port=""
start_postgres() {
    local dir=$1
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        # The postgres user must reach DIR: let it pass through (not list) the
        # directories above it, which mktemp made private.
        chmod o+x "$tmp" "$(dirname "$dir")"
        chown postgres: "$dir"
    fi
    log "initdb in $dir/data"
    as_pg initdb -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    pg_port=$(free_port)
    log "starting PostgreSQL on 127.0.0.1:$pg_port"
    pg_data="$dir/data"   # from here on the cleanup stops it
    as_pg pg_ctl start -w -t 60 -D "$dir/data" -l "$dir/pg.log" \
        -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" \
        >"$dir/pg_ctl.log" 2>&1 \
        || { cat "$dir/pg_ctl.log" "$dir/pg.log" >&2 2>/dev/null; die "PostgreSQL did not start"; }
    as_pg createdb -h 127.0.0.1 -p "$pg_port" -U postgres gatehouse >"$dir/createdb.log" 2>&1 \
        || { cat "$dir/createdb.log" >&2; die "createdb failed"; }
    pg_url="postgres://postgres@127.0.0.1:$pg_port/gatehouse"
}

# start_redis DIR: a throwaway redis-server (no persistence) on a free loopback
# port; sets redis_pid, redis_port and redis_url.
redis_url="" redis_port=""
redis_ping() {   # redis_ping PORT: print the first 5 bytes of the answer to PING
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3) \
        2>/dev/null || true
}
start_redis() {
    local dir=$1
    mkdir -p "$dir"
    redis_port=$(free_port)
    log "starting redis-server on 127.0.0.1:$redis_port"
    (cd "$dir" && exec redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no) >"$dir/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do
        if [ "$(redis_ping "$redis_port")" = "+PONG" ]; then
            redis_url="redis://127.0.0.1:$redis_port/0"
            return 0
        fi
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/redis.log" >&2 || true
    die "redis-server did not answer on 127.0.0.1:$redis_port"
}

# seed_pg DB WITH_SESSIONS: N users and profiles (and sessions when WITH_SESSIONS is 1) into
# the PostgreSQL database DB, the same rows as bench/seed.c writes into SQLite, then VACUUM
# ANALYZE, as autovacuum would soon after such a load.
seed_pg() {
    local db=$1 with_sessions=$2 sql=$tmp/seed-pg.sql
    cat >"$sql" <<'EOF'
BEGIN;
INSERT INTO users (id, email, password_hash, first_name, last_name, is_active, is_staff,
                   is_superuser, thumbnail, date_joined)
SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       'seed-' || lpad(i::text, 9, '0') || '@example.com', :'hash', 'Seed', 'User',
       true, false, false, NULL, extract(epoch FROM now())::bigint - 86400
FROM generate_series(1, :n) AS i;
INSERT INTO user_profiles (id, user_id)
SELECT ('00000000-0000-4000-9000-' || lpad(i::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid
FROM generate_series(1, :n) AS i;
\if :sessions
INSERT INTO sessions (token_hash, id, user_id, created_at, expires_at, last_seen_at, ip,
                      user_agent)
SELECT encode(sha256(convert_to('seed' || lpad(i::text, 39, '0'), 'UTF8')), 'hex'),
       ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       t.now, t.now + 23 * 3600 + i::bigint * 3600 / :n, t.now, '127.0.0.1', 'bench-seed'
FROM generate_series(1, :n) AS i, (SELECT extract(epoch FROM now())::bigint AS now) AS t;
\endif
COMMIT;
VACUUM ANALYZE users, user_profiles, sessions;
EOF
    chmod o+r "$sql"
    as_pg psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -v ON_ERROR_STOP=1 \
        -v n="$seed" -v hash="$seed_hash" -v sessions="$with_sessions" -f "$sql" \
        >"$tmp/seed-pg.log" 2>&1 || { cat "$tmp/seed-pg.log" >&2; die "seeding PostgreSQL failed"; }
}

# ---------------------------------------------------------------- login script
cat >"$tmp/login.lua.in" <<'EOF'
-- POST the login JSON; count answers by status in every thread, sum in done().
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args) ok = 0; busy = 0; limited = 0; other = 0 end

function response(status, headers, body)
    if status == 200 then ok = ok + 1
    elseif status == 503 then busy = busy + 1
    elseif status == 429 then limited = limited + 1
    else other = other + 1 end
end

function done(summary, latency, requests)
    local t = { ok = 0, busy = 0, limited = 0, other = 0 }
    for _, th in ipairs(threads) do
        for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
    end
    io.write(string.format("LOGIN seconds=%.3f ok=%d busy=%d limited=%d other=%d errors=%d\n",
        summary.duration / 1e6, t.ok, t.busy, t.limited, t.other,
        summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.timeout))
end
EOF

# ---------------------------------------------------------------- refresh script
# Every request rotates a refresh token that was never sent before: each thread
# starts with one fresh token per connection (the caller sets wrk.tokens, a
# space-separated list that setup() deals out to the threads in turn), sends one
# per request, and puts the successor from the answer back in its queue. wrk
# calls request() once before the run to check the script, which takes a token
# of the first thread: the caller mints one token more than connections, and
# the first thread is dealt it. A failed refresh ends its chain; a thread with an
# empty queue sends a malformed token (counted as "starved", answered 401).
cat >"$tmp/refresh.lua.in" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
    local mine, i, n = {}, 0, #threads
    for token in string.gmatch(wrk.tokens, "%S+") do
        if i % wrk.thread_count == n then table.insert(mine, token) end
        i = i + 1
    end
    thread:set("tokens", table.concat(mine, " "))
    table.insert(threads, thread)
end

function init(args)
    queue = {}
    for token in string.gmatch(tokens, "%S+") do table.insert(queue, token) end
    ok = 0; failed = 0; starved = 0; first_failure = ""
end

function request()
    local token = table.remove(queue, 1)
    if token == nil then
        starved = starved + 1
        token = "starved"
    end
    return wrk.format(nil, nil, nil, '{"refresh":"' .. token .. '"}')
end

function response(status, headers, body)
    local successor = status == 200 and string.match(body, '"refresh":"([%w_%-]+)"')
    if successor then
        ok = ok + 1
        table.insert(queue, successor)
    else
        failed = failed + 1
        if first_failure == "" then first_failure = status .. " " .. string.sub(body, 1, 160) end
    end
end

function done(summary, latency, requests)
    local t = { ok = 0, failed = 0, starved = 0 }
    for _, th in ipairs(threads) do
        for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
    end
    io.write(string.format("REFRESH seconds=%.3f ok=%d failed=%d starved=%d errors=%d\n",
        summary.duration / 1e6, t.ok, t.failed, t.starved,
        summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.timeout))
    for _, th in ipairs(threads) do
        local f = th:get("first_failure")
        if f ~= "" then io.write("REFRESH_FAILURE " .. f .. "\n") end
    end
end
LUA

# Results, keyed "MODE field".
declare -A res

# gh_check: die with a server's exit status and last log lines when one is gone.
gh_check() {
    local name rc
    for name in "${!srv_pid[@]}"; do
        kill -0 "${srv_pid[$name]}" 2>/dev/null && continue
        rc=0
        wait "${srv_pid[$name]}" 2>/dev/null || rc=$?
        unset "srv_pid[$name]"
        [ "$rc" -gt 128 ] && rc="$rc (signal $(kill -l "$rc" 2>/dev/null || echo $((rc - 128))))"
        tail -n 20 "$mdir/$name/gatehouse.log" >&2 || true
        die "gatehouse ($name) exited during the benchmark, status $rc"
    done
}

run_wrk() {   # run_wrk OUTFILE SECONDS CONNECTIONS ARGS...
    local out=$1 d=$2 c=$3
    shift 3
    if ! wrk -t"$wrk_threads" -c"$c" -d"${d}s" --latency "$@" >"$out" 2>&1; then
        cat "$out" >&2
        gh_check
        die "wrk failed"
    fi
    gh_check
}

# ---------------------------------------------------------------- example services
# start_example NAME LOGFILE COMMAND...: start an example service of examples/
# on a free port (PORT=0; it prints "listening on ADDR:PORT" on stderr) against
# the gatehouse at ex_base; sets ex_pid and ex_port.
ex_base="" ex_pid="" ex_port=""
start_example() {
    local name=$1 logf=$2
    shift 2
    ex_port=""
    env GATEHOUSE_URL="$ex_base" HOST=127.0.0.1 PORT=0 "$@" </dev/null >/dev/null 2>"$logf" &
    ex_pid=$!
    for _ in $(seq 100); do
        ex_port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$logf" 2>/dev/null \
                  | head -n 1 | sed 's/.*://' || true)
        [ -n "$ex_port" ] && return 0
        kill -0 "$ex_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$logf" >&2 || true
    die "the $name example service did not start"
}

# run_examples DIR BASE ACCESS: wrk against GET /whoami of each example service
# with a valid access token of the gatehouse at BASE, then nginx, one round each.
declare -A ex
run_examples() {
    local dir=$1 access=$3 status name port
    ex_base=$2
    start_example python "$dir/python-service.log" "$python" examples/python-service/service.py
    py_pid=$ex_pid
    ex[python_port]=$ex_port
    start_example node "$dir/node-service.log" node examples/node-service/server.js
    node_pid=$ex_pid
    ex[node_port]=$ex_port
    for name in python node; do
        port=${ex[${name}_port]}
        status=$(curl -s -o "$dir/whoami-$name" -w '%{http_code}' --max-time 10 \
                 -H "Authorization: Bearer $access" "http://127.0.0.1:$port/whoami")
        [ "$status" = 200 ] || die "the $name example answered $status: $(cat "$dir/whoami-$name")"
        log "examples: $name, ${example_secs}s"
        run_wrk "$dir/warm-$name.txt" 1 "$conns" -H "Authorization: Bearer $access" \
            "http://127.0.0.1:$port/whoami"
        run_wrk "$dir/ex-$name.txt" "$example_secs" "$conns" -H "Authorization: Bearer $access" \
            "http://127.0.0.1:$port/whoami"
        ex[${name}_rps]=$(wrk_field "$dir/ex-$name.txt" rps)
        ex[${name}_lat]="$(wrk_field "$dir/ex-$name.txt" p50)/$(wrk_field "$dir/ex-$name.txt" p99)"
        ex[${name}_bad]=$(( $(wrk_field "$dir/ex-$name.txt" non2xx) + $(wrk_field "$dir/ex-$name.txt" errors) ))
    done
    log "examples: nginx, ${example_secs}s"
    run_wrk "$dir/ex-nginx.txt" "$example_secs" "$conns" "http://127.0.0.1:$nginx_port/"
    ex[ng_rps]=$(wrk_field "$dir/ex-nginx.txt" rps)
    ex[ng_lat]="$(wrk_field "$dir/ex-nginx.txt" p50)/$(wrk_field "$dir/ex-nginx.txt" p99)"
    stop_pid "$py_pid"
    stop_pid "$node_pid"
    py_pid="" node_pid=""
}

# start_server NAME ENV...: start gatehouse with the given settings on a port of its choice,
# wait for a 200 from /health-check/; sets srv_pid[NAME] and srv_base[NAME]. Its files are
# under $mdir/NAME.
declare -A srv_base=()
start_server() {
    local name=$1 dir=$mdir/$1 port="" status
    shift
    mkdir -p "$dir"
    # Only the first MiB of the server's stderr is kept (the start-up lines, the
    # port); the rest, such as per-request log lines, is read and dropped, so a
    # logging server neither fills the disk nor blocks on a full pipe.
    env "$@" GATEHOUSE_LISTEN=127.0.0.1:0 "$bin" serve \
        </dev/null >"$dir/gatehouse.stdout" \
        2> >(stdbuf -o0 head -c 1048576 >"$dir/gatehouse.log"; cat >/dev/null) &
    srv_pid[$name]=$!
    for _ in $(seq 100); do
        port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$dir/gatehouse.log" 2>/dev/null \
               | head -n 1 | sed 's/.*://' || true)
        [ -n "$port" ] && break
        kill -0 "${srv_pid[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        cat "$dir/gatehouse.log" >&2 || true
        die "gatehouse ($name) did not report its port"
    fi
    srv_base[$name]="http://127.0.0.1:$port"
    wait_http "${srv_base[$name]}/health-check/" || die "gatehouse ($name) does not answer on ${srv_base[$name]}"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${srv_base[$name]}/health-check/")
    [ "$status" = 200 ] || die "health-check answered $status (database or Redis not reachable?)"
    log "gatehouse $name (pid ${srv_pid[$name]}) on ${srv_base[$name]}"
}

# setup_user NAME DATA_DIR: register a user on server NAME, confirm it through the mail in
# DATA_DIR/mail, log in (session cookie), ask current-user once (device cookie, as a browser
# gets it) and get an access token from /api/token/. Sets usr_cookie[NAME] (the Cookie header
# value with both cookies), usr_access[NAME] and usr_login[NAME] (the login JSON).
declare -A usr_cookie=() usr_access=() usr_login=()
setup_user() {
    local name=$1 data=$2 base=${srv_base[$1]} dir=$mdir/$1
    local email password status confirm_url confirm_path session device access
    email="bench-$$-$RANDOM@example.com"
    password="Bench-$RANDOM-correct-horse-battery-staple"
    usr_login[$name]="{\"email\":\"$email\",\"password\":\"$password\"}"

    # post PATH JSON: POST JSON, print the status code, body to $dir/body, headers to $dir/headers.
    post() {
        curl -s -o "$dir/body" -D "$dir/headers" -w '%{http_code}' --max-time 20 \
            -H 'Content-Type: application/json' --data "$2" "$base$1"
    }
    status=$(post /users/register/ \
        "{\"email\":\"$email\",\"password\":\"$password\",\"first_name\":\"Bench\",\"last_name\":\"Mark\"}")
    [ "$status" = 201 ] || die "register answered $status: $(cat "$dir/body")"
    confirm_url=""
    for _ in $(seq 100); do
        confirm_url=$(grep -rhoE "^https?://[^[:space:]]*/users/register/confirm/\?token=[A-Za-z0-9_-]+" \
                      "$data/mail" 2>/dev/null | head -n 1 || true)
        [ -n "$confirm_url" ] && break
        sleep 0.1
    done
    [ -n "$confirm_url" ] || die "no confirmation mail with a link under $data/mail"
    # The link carries the public URL; fetch the same path and query on our port.
    confirm_path="/users/register/confirm/?${confirm_url#*\?}"
    status=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "$base$confirm_path")
    case "$status" in
        *regenerate-token*) die "confirmation link refused: $status" ;;
        2??*|3??*) ;;
        *) die "confirmation link answered $status" ;;
    esac

    status=$(post /users/login/ "${usr_login[$name]}")
    [ "$status" = 200 ] || die "login answered $status: $(cat "$dir/body")"
    session=$(grep -i '^set-cookie: *sessionid=' "$dir/headers" | head -n 1 \
              | sed -E 's/^[^:]*: *sessionid=([^;[:space:]]*).*/\1/')
    [ -n "$session" ] || die "login set no sessionid cookie"

    status=$(curl -s -o /dev/null -D "$dir/headers" -w '%{http_code}' --max-time 10 \
             -H "Cookie: sessionid=$session" "$base/users/current-user/")
    [ "$status" = 200 ] || die "current-user with the new session answered $status"
    device=$(grep -i '^set-cookie: *gh_device=' "$dir/headers" | head -n 1 \
             | sed -E 's/^[^:]*: *gh_device=([^;[:space:]]*).*/\1/')
    [ -n "$device" ] || die "the first current-user answer set no gh_device cookie"
    usr_cookie[$name]="sessionid=$session; gh_device=$device"
    status=$(curl -s -o /dev/null -D "$dir/headers" -w '%{http_code}' --max-time 10 \
             -H "Cookie: ${usr_cookie[$name]}" "$base/users/current-user/")
    [ "$status" = 200 ] || die "current-user with both cookies answered $status"
    grep -qi '^set-cookie:' "$dir/headers" \
        && log "warning: current-user still sets a cookie when the browser sends its device cookie"

    status=$(post /api/token/ "${usr_login[$name]}")
    [ "$status" = 200 ] || die "/api/token/ answered $status: $(cat "$dir/body")"
    access=$(grep -oE '"access" *: *"[^"]+"' "$dir/body" | sed -E 's/.*"([^"]+)"$/\1/')
    [ -n "$access" ] || die "no access token in the /api/token/ answer: $(cat "$dir/body")"
    usr_access[$name]=$access
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
             -H "Authorization: Bearer $access" "$base/users/current-user/")
    [ "$status" = 200 ] || die "current-user with the Bearer token answered $status"
    log "$name: user $email registered, confirmed, logged in, device cookie and access token"
}

# ---------------------------------------------------------------- one mode
run_mode() {
    local mode=$1 data_dir empty_dir db_url="" empty_db_url="" r name t0 line pid
    local -a mode_env empty_env
    mdir="$tmp/${mode//+/-}"
    data_dir="$mdir/data"
    empty_dir="$mdir/empty-data"
    mkdir -p "$data_dir"
    log "==== mode $mode"

    mode_env=("${base_env[@]}" GATEHOUSE_DATA_DIR="$data_dir")
    empty_env=("${base_env[@]}" GATEHOUSE_DATA_DIR="$empty_dir")
    case "$mode" in
        postgres|postgres+redis)
            start_postgres "$mdir/pg"
            db_url=$pg_url
            mode_env+=(DATABASE_URL="$db_url")
            if [ "$seed" -gt 0 ]; then
                as_pg createdb -h 127.0.0.1 -p "$pg_port" -U postgres gatehouse_empty \
                    >>"$mdir/pg/createdb.log" 2>&1 || die "createdb gatehouse_empty failed"
                empty_db_url="postgres://postgres@127.0.0.1:$pg_port/gatehouse_empty"
                empty_env+=(DATABASE_URL="$empty_db_url")
            fi
            ;;
    esac
    if [ "$mode" = postgres+redis ]; then
        start_redis "$mdir/redis"
        mode_env+=(REDIS_URL="$redis_url")
        empty_env+=(REDIS_URL="redis://127.0.0.1:$redis_port/1")
    fi

    # ------------------------------------------------------------ schema and seed
    env "${mode_env[@]}" "$bin" migrate >"$mdir/migrate.log" 2>&1 \
        || { cat "$mdir/migrate.log" >&2; die "gatehouse migrate failed"; }
    res[$mode seed_secs]=""
    if [ "$seed" -gt 0 ]; then
        env "${empty_env[@]}" "$bin" migrate >"$mdir/migrate-empty.log" 2>&1 \
            || { cat "$mdir/migrate-empty.log" >&2; die "gatehouse migrate (empty) failed"; }
        log "$mode: seeding $seed users and sessions"
        t0=$(date +%s.%N)
        case "$mode" in
            sqlite)
                "$hb"/bench-seed sqlite "$data_dir/gatehouse.db" "$seed" "$seed_hash" >"$mdir/seed.log" \
                    || die "seeding SQLite failed"
                ;;
            postgres)
                seed_pg gatehouse 1
                ;;
            postgres+redis)
                seed_pg gatehouse 0
                "$hb"/bench-seed redis "$seed" \
                    | redis-cli -h 127.0.0.1 -p "$redis_port" --pipe >"$mdir/seed-redis.log" 2>&1 \
                    || { cat "$mdir/seed-redis.log" >&2; die "seeding Redis failed"; }
                grep -q 'errors: 0,' "$mdir/seed-redis.log" \
                    || { cat "$mdir/seed-redis.log" >&2; die "seeding Redis reported errors"; }
                ;;
        esac
        res[$mode seed_secs]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }')
        log "$mode: seeded in ${res[$mode seed_secs]} s"
    fi

    # ------------------------------------------------------------ start-up
    local sport
    sport=$(free_port)
    log "$mode: start-up, $startup_runs starts"
    line=$(env "${mode_env[@]}" GATEHOUSE_LISTEN="127.0.0.1:$sport" \
           "$hb"/bench-startup "$sport" "$startup_runs" 10000 "$bin" serve 2>"$mdir/startup.log") \
        || { tail -n 20 "$mdir/startup.log" >&2; die "start-up measurement failed"; }
    res[$mode start_first]=$(kv "$line" first)
    # The first start of a fresh database creates the keys; the target is about the others.
    res[$mode start_median]=$(kv "$line" ms | tr ',' '\n' | tail -n +2 | sort -n \
        | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    res[$mode start_max]=$(kv "$line" ms | tr ',' '\n' | tail -n +2 | sort -n | tail -n 1)

    # ------------------------------------------------------------ servers and users
    start_server main "${mode_env[@]}"
    pid=${srv_pid[main]}
    sleep 1
    res[$mode rss_idle]=$(rss "$pid")
    setup_user main "$data_dir"
    if [ "$seed" -gt 0 ]; then
        start_server empty "${empty_env[@]}"
        setup_user empty "$empty_dir"
    fi

    local cookie_url="${srv_base[main]}/users/current-user/"
    local -a series=(cookie bearer nginx)
    [ "$seed" -gt 0 ] && series+=(empty)
    # one_run SERIES OUTFILE SECONDS: one wrk run of a series.
    one_run() {
        case "$1" in
            cookie) run_wrk "$2" "$3" "$conns" -H "Cookie: ${usr_cookie[main]}" "$cookie_url" ;;
            bearer) run_wrk "$2" "$3" "$conns" -H "Authorization: Bearer ${usr_access[main]}" "$cookie_url" ;;
            nginx)  run_wrk "$2" "$3" "$conns" "http://127.0.0.1:$nginx_port/" ;;
            empty)  run_wrk "$2" "$3" "$conns" -H "Cookie: ${usr_cookie[empty]}" \
                        "${srv_base[empty]}/users/current-user/" ;;
        esac
    }

    # ------------------------------------------------------------ current-user rounds
    log "$mode: warm-up"
    for name in "${series[@]}"; do one_run "$name" "$mdir/warm-$name.txt" 1; done
    local -A sum_rps=() p50s=() p99s=()
    local bad=0 rss_session=0 peak
    for r in $(seq "$rounds"); do
        for name in "${series[@]}"; do
            log "$mode round $r/$rounds: $name, ${secs}s"
            # The empty twin is sampled too, though its memory is not reported: target 2
            # compares it with the cookie rounds, so both carry the sampler's small cost.
            case "$name" in
                cookie|bearer) sampler_start "$pid" "$mdir/rss-$name-$r.txt" ;;
                empty) sampler_start "${srv_pid[empty]}" "$mdir/rss-$name-$r.txt" ;;
            esac
            one_run "$name" "$mdir/$name-$r.txt" "$secs"
            case "$name" in
                cookie|bearer)
                    peak=$(sampler_stop "$mdir/rss-$name-$r.txt")
                    [ "${peak:-0}" -gt "$rss_session" ] && rss_session=$peak
                    bad=$(( bad + $(wrk_field "$mdir/$name-$r.txt" non2xx) + $(wrk_field "$mdir/$name-$r.txt" errors) ))
                    ;;
                empty) sampler_stop "$mdir/rss-$name-$r.txt" >/dev/null ;;
            esac
            sum_rps[$name]=$(( ${sum_rps[$name]:-0} + $(wrk_field "$mdir/$name-$r.txt" rps) ))
            p50s[$name]="${p50s[$name]:-} $(wrk_field "$mdir/$name-$r.txt" p50)"
            p99s[$name]="${p99s[$name]:-} $(wrk_field "$mdir/$name-$r.txt" p99)"
        done
    done
    for name in "${series[@]}"; do
        res[$mode ${name}_rps]=$(( sum_rps[$name] / rounds ))
        # shellcheck disable=SC2086  # the lists are space-separated numbers
        res[$mode ${name}_p50]=$(median ${p50s[$name]})
        # shellcheck disable=SC2086
        res[$mode ${name}_p99]=$(median ${p99s[$name]})
    done
    res[$mode bad]=$bad
    res[$mode rss_session]=$rss_session
    [ "$seed" -gt 0 ] && stop_pid "${srv_pid[empty]}" && unset "srv_pid[empty]"

    # ------------------------------------------------------------ refresh, each a fresh rotation
    local refresh_tokens="" refresh_line status
    log "$mode refresh: minting $(( refresh_conns + 1 )) refresh tokens"
    for _ in $(seq $(( refresh_conns + 1 ))); do
        status=$(curl -s -o "$mdir/mint-body" -w '%{http_code}' --max-time 20 \
                 -H 'Content-Type: application/json' --data "${usr_login[main]}" \
                 "${srv_base[main]}/api/token/")
        [ "$status" = 200 ] || die "POST /api/token/ answered $status: $(cat "$mdir/mint-body")"
        refresh_tokens="$refresh_tokens $(sed -n 's/.*"refresh":"\([^"]*\)".*/\1/p' "$mdir/mint-body")"
    done
    { printf 'wrk.tokens = "%s"\nwrk.thread_count = %d\n' "$refresh_tokens" "$wrk_threads"
      cat "$tmp/refresh.lua.in"; } >"$mdir/refresh.lua"
    log "$mode refresh, ${refresh_secs}s, $refresh_conns connections"
    run_wrk "$mdir/refresh.txt" "$refresh_secs" "$refresh_conns" -s "$mdir/refresh.lua" \
        "${srv_base[main]}/api/token/refresh/"
    refresh_line=$(grep '^REFRESH ' "$mdir/refresh.txt" || true)
    [ -n "$refresh_line" ] || { cat "$mdir/refresh.txt" >&2; die "no REFRESH line from wrk"; }
    res[$mode refresh_rps]=$(awk -v n="$(kv "$refresh_line" ok)" -v s="$(kv "$refresh_line" seconds)" \
        'BEGIN { printf "%.0f\n", n / s }')
    res[$mode refresh_lat]="$(wrk_field "$mdir/refresh.txt" p50) / $(wrk_field "$mdir/refresh.txt" p99)"
    res[$mode refresh_bad]="$(kv "$refresh_line" failed)/$(kv "$refresh_line" starved)/$(kv "$refresh_line" errors)"
    res[$mode refresh_failed]=$(( $(kv "$refresh_line" failed) + $(kv "$refresh_line" starved) + $(kv "$refresh_line" errors) ))
    res[$mode refresh_failures]=$(sed -n 's/^REFRESH_FAILURE //p' "$mdir/refresh.txt" | tr '\n' ';')

    # ------------------------------------------------------------ the examples (first mode only)
    if [ "$examples" = 1 ] && [ "$mode" = "${modes[0]}" ]; then
        run_examples "$mdir" "${srv_base[main]}" "${usr_access[main]}"
    fi

    # ------------------------------------------------------------ login vs Argon2id, interleaved
    { printf 'wrk.body = [==[%s]==]\n' "${usr_login[main]}"; cat "$tmp/login.lua.in"; } >"$mdir/login.lua"
    local -a hash_rates=() login_rates=()
    local ok=0 busy=0 limited=0 other=0 errs=0 rss_login=0 login_p50s="" login_p99s=""
    for r in $(seq "$login_rounds"); do
        log "$mode login round $r/$login_rounds: Argon2id reference, ${hash_secs}s"
        line=$("$hb"/bench-hashrate "$cores" "$hash_secs" "$argon2_iter" "$argon2_mem") \
            || die "bench-hashrate failed"
        hash_rates+=("$(kv "$line" per_second)")
        log "$mode login round $r/$login_rounds: login, ${login_secs}s, $login_conns connections"
        sampler_start "$pid" "$mdir/rss-login-$r.txt"
        run_wrk "$mdir/login-$r.txt" "$login_secs" "$login_conns" -s "$mdir/login.lua" "${srv_base[main]}/users/login/"
        peak=$(sampler_stop "$mdir/rss-login-$r.txt")
        [ "${peak:-0}" -gt "$rss_login" ] && rss_login=$peak
        line=$(grep '^LOGIN ' "$mdir/login-$r.txt" || true)
        [ -n "$line" ] || { cat "$mdir/login-$r.txt" >&2; die "no LOGIN line from wrk"; }
        login_rates+=("$(awk -v n="$(kv "$line" ok)" -v s="$(kv "$line" seconds)" 'BEGIN { printf "%.1f\n", n / s }')")
        ok=$(( ok + $(kv "$line" ok) )); busy=$(( busy + $(kv "$line" busy) ))
        limited=$(( limited + $(kv "$line" limited) )); other=$(( other + $(kv "$line" other) ))
        errs=$(( errs + $(kv "$line" errors) ))
        login_p50s="$login_p50s $(wrk_field "$mdir/login-$r.txt" p50)"
        login_p99s="$login_p99s $(wrk_field "$mdir/login-$r.txt" p99)"
    done
    res[$mode hash_rps]=$(mean "${hash_rates[@]}")
    res[$mode login_rps]=$(mean "${login_rates[@]}")
    # shellcheck disable=SC2086
    res[$mode login_lat]="$(median $login_p50s) / $(median $login_p99s)"
    res[$mode login_bad]="$busy/$limited/$other/$errs"
    res[$mode login_limited]=$limited
    res[$mode login_other]=$(( other + errs ))
    res[$mode rss_login]=$rss_login

    # ------------------------------------------------------------ login flood
    local rate flood_pid pid_up
    rate=$(awk -v h="${res[$mode hash_rps]}" -v f="$flood_factor" 'BEGIN { r = int(h * f + 0.5); print (r < 1 ? 1 : r) }')
    printf '%s' "${usr_login[main]}" >"$mdir/login.json"
    log "$mode: login flood at $rate/s (${flood_factor}x the Argon2id rate) with current-user, ${flood_secs}s"
    sleep 1   # the last login round's queue drains
    sampler_start "$pid" "$mdir/rss-flood.txt"
    node bench/flood.js "${srv_base[main]##*:}" "$rate" "$(( flood_secs + 2 ))" "$mdir/login.json" \
        >"$mdir/flood.txt" 2>"$mdir/flood.err" &
    flood_pid=$!
    bg_pids+=("$flood_pid")
    sleep 1
    run_wrk "$mdir/flood-check.txt" "$flood_secs" "$conns" -H "Cookie: ${usr_cookie[main]}" "$cookie_url"
    wait "$flood_pid" || { cat "$mdir/flood.err" >&2; die "bench/flood.js failed"; }
    bg_forget "$flood_pid"
    res[$mode rss_flood]=$(sampler_stop "$mdir/rss-flood.txt")
    line=$(grep '^FLOOD ' "$mdir/flood.txt" || true)
    [ -n "$line" ] || { cat "$mdir/flood.txt" "$mdir/flood.err" >&2; die "no FLOOD line"; }
    res[$mode flood_line]=$line
    res[$mode flood_rate]=$rate
    res[$mode flood_check_rps]=$(wrk_field "$mdir/flood-check.txt" rps)
    res[$mode flood_check_p99]=$(wrk_field "$mdir/flood-check.txt" p99)
    res[$mode flood_check_bad]=$(( $(wrk_field "$mdir/flood-check.txt" non2xx) + $(wrk_field "$mdir/flood-check.txt" errors) ))

    # ------------------------------------------------------------ unfinished uploads
    sleep 2   # the flood's queued logins finish
    log "$mode: $uploads unfinished unauthenticated uploads, held ${upload_secs}s"
    node bench/uploads.js "${srv_base[main]##*:}" "$pid" "$uploads" "$upload_secs" \
        >"$mdir/uploads.txt" 2>"$mdir/uploads.err" &
    pid_up=$!
    bg_pids+=("$pid_up")
    wait "$pid_up" || { cat "$mdir/uploads.err" >&2; die "bench/uploads.js failed"; }
    bg_forget "$pid_up"
    gh_check
    line=$(grep '^UPLOADS ' "$mdir/uploads.txt" || true)
    [ -n "$line" ] || { cat "$mdir/uploads.txt" "$mdir/uploads.err" >&2; die "no UPLOADS line"; }
    res[$mode uploads_line]=$line

    # ------------------------------------------------------------ memory afterwards
    sleep 2
    res[$mode rss_after]=$(rss "$pid")
    res[$mode hwm]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    res[$mode threads]=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")

    # Stop this mode's processes so they take no CPU from the next mode.
    stop_mode_processes
}

for mode in "${modes[@]}"; do
    run_mode "$mode"
done

# ---------------------------------------------------------------- figures per mode
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "nan") print "n/a"; else printf "%.1f MiB\n", k / 1024 }'; }
fl() { kv "${res[$1 flood_line]}" "$2"; }
ul() { kv "${res[$1 uploads_line]}" "$2"; }
w=18
# val MODE KEY: one cell of the figures table.
val() {
    local m=$1
    case "$2" in
        start)        echo "${res[$m start_first]} / ${res[$m start_median]} / ${res[$m start_max]}" ;;
        lat_*)        echo "${res[$m ${2#lat_}_p50]} / ${res[$m ${2#lat_}_p99]}" ;;
        cookie_ratio) ratio "${res[$m cookie_rps]}" "${res[$m nginx_rps]}" ;;
        bearer_ratio) ratio "${res[$m bearer_rps]}" "${res[$m cookie_rps]}" ;;
        refresh_ratio) ratio "${res[$m refresh_rps]}" "${res[$m nginx_rps]}" ;;
        seed_ratio)   ratio "${res[$m cookie_rps]}" "${res[$m empty_rps]}" ;;
        login_ratio)  ratio "${res[$m login_rps]}" "${res[$m hash_rps]}" ;;
        flood_sent)   echo "$(fl "$m" sent) at ${res[$m flood_rate]}/s" ;;
        flood_ans)    echo "$(fl "$m" ok)/$(fl "$m" s503)/$(fl "$m" s429)/$(( $(fl "$m" other) + $(fl "$m" errors) + $(fl "$m" timeouts) ))" ;;
        flood_share)  refused_share "$m" ;;
        flood_lat)    echo "$(fl "$m" refused_p50_ms) / $(fl "$m" refused_p99_ms)" ;;
        flood_okp50)  fl "$m" ok_p50_ms ;;
        flood_p99)    echo "${res[$m flood_check_p99]} ($(ratio "${res[$m flood_check_p99]}" "${res[$m cookie_p99]}")x)" ;;
        up_ans)       echo "$(ul "$m" connected) / $(ul "$m" answered)" ;;
        up_open)      echo "$(ul "$m" closed_by_server) / $(ul "$m" open_at_end)" ;;
        up_rss)       mib "$(ul "$m" rss_peak_kib)" ;;
        rss_*|hwm)    mib "${res[$m $2]}" ;;
        *)            echo "${res[$m $2]:-}" ;;
    esac
}
# refused_share MODE: the share of 503 and 429 among the answers beyond the 200s.
refused_share() {
    local m=$1
    awk -v s="$(fl "$m" sent)" -v ok="$(fl "$m" ok)" -v b="$(fl "$m" s503)" -v l="$(fl "$m" s429)" \
        'BEGIN { if (s - ok > 0) printf "%.3f\n", (b + l) / (s - ok); else print "n/a" }'
}
row() {   # row LABEL KEY: the label, then one cell per mode
    local mode
    printf '%-42s' "$1"
    for mode in "${modes[@]}"; do
        printf " %${w}s" "$(val "$mode" "$2")"
    done
    printf '\n'
}

# ---------------------------------------------------------------- targets
# judge VALUE OP LIMIT: PASS or FAIL (n/a when the value is not a number).
judge() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v !~ /^[0-9.]+$/) { print "n/a"; exit }
        ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
        print ok ? "PASS" : "FAIL" }'
}
n_pass=0 n_fail=0 n_na=0
target_rows=()
tfmt='%-52s %14s %14s %7s %9s  %s'
# target LABEL MEASURED REFERENCE RATIO OP LIMIT: one row of the targets table. RATIO is
# MEASURED / REFERENCE when the target is relative; for an absolute target (memory, start-up)
# pass "-" as REFERENCE and RATIO, and MEASURED is judged against LIMIT.
target() {
    local verdict v=$4 lim
    [ "$4" = - ] && v=$2
    verdict=$(judge "$v" "$5" "$6")
    case "$verdict" in PASS) n_pass=$((n_pass + 1)) ;; FAIL) n_fail=$((n_fail + 1)) ;; *) n_na=$((n_na + 1)) ;; esac
    lim="$5 $6"
    # shellcheck disable=SC2059  # the format is ours
    target_rows+=("$(printf "$tfmt" "$1" "$2" "$3" "$4" "$lim" "$verdict")")
}
report() {   # report LABEL MEASURED [REFERENCE [RATIO]]: a row with a figure and no limit
    # shellcheck disable=SC2059
    target_rows+=("$(printf "$tfmt" "$1" "$2" "${3:--}" "${4:--}" "(report)" "-")")
}
has_mode() { case " $modes_str " in *" $1 "*) return 0 ;; esac; return 1; }
mibn() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f\n", k / 1024 }'; }
short() { case "$1" in postgres+redis) echo pg+redis ;; postgres) echo pg ;; *) echo "$1" ;; esac; }

if has_mode sqlite; then
    target "1. cookie req/s vs nginx (sqlite)" "${res[sqlite cookie_rps]}" "${res[sqlite nginx_rps]}" \
        "$(ratio "${res[sqlite cookie_rps]}" "${res[sqlite nginx_rps]}")" ">=" 0.80
    target "1. cookie p99 ms vs nginx p99 (sqlite)" "${res[sqlite cookie_p99]}" "${res[sqlite nginx_p99]}" \
        "$(ratio "${res[sqlite cookie_p99]}" "${res[sqlite nginx_p99]}")" "<=" 1.50
fi
if [ "$seed" -gt 0 ]; then
    for mode in "${modes[@]}"; do
        target "2. cookie req/s, $seed seeded vs empty ($(short "$mode"))" "${res[$mode cookie_rps]}" \
            "${res[$mode empty_rps]}" "$(ratio "${res[$mode cookie_rps]}" "${res[$mode empty_rps]}")" ">=" 0.95
        report "2. seeding $seed users+sessions, s ($(short "$mode"))" "${res[$mode seed_secs]}"
    done
else
    report "2. seeded vs empty: not run (BENCH_USERS=0)" "-"
fi
for mode in "${modes[@]}"; do
    target "3. Bearer req/s vs cookie ($(short "$mode"))" "${res[$mode bearer_rps]}" "${res[$mode cookie_rps]}" \
        "$(ratio "${res[$mode bearer_rps]}" "${res[$mode cookie_rps]}")" ">=" 1.00
done
if has_mode sqlite; then
    for mode in postgres postgres+redis; do
        has_mode "$mode" || continue
        # Each mode's figure against its own nginx rounds, so that a busier machine during
        # one mode does not decide the comparison (both the raw and the normalised ratio are
        # printed; the normalised one is judged).
        v=$(awk -v a="${res[$mode cookie_rps]}" -v an="${res[$mode nginx_rps]}" \
                -v s="${res[sqlite cookie_rps]}" -v sn="${res[sqlite nginx_rps]}" \
                'BEGIN { if (an > 0 && s > 0 && sn > 0) printf "%.2f\n", (a / an) / (s / sn); else print "n/a" }')
        report "4. cookie req/s vs sqlite, raw ($(short "$mode"))" "${res[$mode cookie_rps]}" \
            "${res[sqlite cookie_rps]}" "$(ratio "${res[$mode cookie_rps]}" "${res[sqlite cookie_rps]}")"
        target "4. same, each per its own nginx ($(short "$mode"))" \
            "$(ratio "${res[$mode cookie_rps]}" "${res[$mode nginx_rps]}")" \
            "$(ratio "${res[sqlite cookie_rps]}" "${res[sqlite nginx_rps]}")" "$v" ">=" 0.50
    done
fi
for mode in "${modes[@]}"; do
    target "5. login/s vs Argon2id verify/s ($(short "$mode"))" "${res[$mode login_rps]}" "${res[$mode hash_rps]}" \
        "$(ratio "${res[$mode login_rps]}" "${res[$mode hash_rps]}")" ">=" 0.90
done
for mode in "${modes[@]}"; do
    # "At once": every login beyond what was answered 200 gets 503 or 429, and the refusals
    # come back within 3x the unloaded session check's p99 (the flood's latency allowance).
    target "6. flood: 503+429 / excess logins ($(short "$mode"))" \
        "$(( $(fl "$mode" s503) + $(fl "$mode" s429) ))" "$(( $(fl "$mode" sent) - $(fl "$mode" ok) ))" \
        "$(refused_share "$mode")" ">=" 0.99
    target "6. flood: refused p99 ms vs unloaded p99 ($(short "$mode"))" "$(fl "$mode" refused_p99_ms)" \
        "${res[$mode cookie_p99]}" "$(ratio "$(fl "$mode" refused_p99_ms)" "${res[$mode cookie_p99]}")" "<=" 3.00
    target "6. flood: cookie p99 ms vs unloaded ($(short "$mode"))" "${res[$mode flood_check_p99]}" \
        "${res[$mode cookie_p99]}" "$(ratio "${res[$mode flood_check_p99]}" "${res[$mode cookie_p99]}")" "<=" 3.00
done
for mode in "${modes[@]}"; do
    target "7. VmRSS idle, MiB ($(short "$mode"))" "$(mibn "${res[$mode rss_idle]}")" - - "<=" 16
    target "7. VmRSS session load peak, MiB ($(short "$mode"))" "$(mibn "${res[$mode rss_session]}")" - - "<=" 24
    lk=${res[$mode rss_login]}
    [ "${res[$mode rss_flood]:-0}" -gt "$lk" ] && lk=${res[$mode rss_flood]}
    target "7. VmRSS login load peak, MiB ($(short "$mode"))" "$(mibn "$lk")" - - "<=" 64
    report "7. VmRSS $uploads open uploads peak, MiB ($(short "$mode"))" "$(mibn "$(ul "$mode" rss_peak_kib)")"
done
if has_mode sqlite; then
    target "8. start-up to first 200, ms median (sqlite)" "${res[sqlite start_median]}" - - "<=" 100
fi

# ---------------------------------------------------------------- print
{
    echo
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "gatehouse bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores, load $load, wrk -t$wrk_threads," \
         "took $(( $(date +%s) - t_start )) s"
    [ "$seed" -gt 0 ] && echo "database seeded with $seed users and $seed live sessions per mode"
    printf '%-42s' "figure"
    for mode in "${modes[@]}"; do printf " %${w}s" "$mode"; done
    printf '\n'
    [ "$seed" -gt 0 ] && row "seeding, s"                  seed_secs
    row "start-up ms: first / median / max"        start
    row "current-user (cookie) req/s"              cookie_rps
    row "  nginx req/s (same rounds)"              nginx_rps
    row "  ratio cookie / nginx"                   cookie_ratio
    row "  cookie p50 / p99 ms"                    lat_cookie
    row "  nginx p50 / p99 ms"                     lat_nginx
    row "current-user (Bearer) req/s"              bearer_rps
    row "  ratio Bearer / cookie"                  bearer_ratio
    row "  Bearer p50 / p99 ms"                    lat_bearer
    if [ "$seed" -gt 0 ]; then
        row "empty-table twin (cookie) req/s"      empty_rps
        row "  ratio seeded / empty"               seed_ratio
        row "  empty p50 / p99 ms"                 lat_empty
    fi
    row "  non-2xx + socket errors (cookie, Bearer)" bad
    row "refresh/s, each a fresh rotation"         refresh_rps
    row "  ratio refresh / nginx"                  refresh_ratio
    row "  refresh p50 / p99 ms"                   refresh_lat
    row "  refresh failed/starved/sock. errs"      refresh_bad
    row "login/s, 200 only"                        login_rps
    row "  Argon2id verify/s (interleaved)"        hash_rps
    row "  ratio login / Argon2id"                 login_ratio
    row "  login p50 / p99 ms"                     login_lat
    row "  login 503/429/other/sock. errs"         login_bad
    row "flood: logins sent"                       flood_sent
    row "  200 / 503 / 429 / other+errors"         flood_ans
    row "  503+429 share of the excess"            flood_share
    row "  refused answers p50 / p99 ms"           flood_lat
    row "  200 answers p50 ms"                     flood_okp50
    row "  current-user req/s during the flood"    flood_check_rps
    row "  current-user p99 ms (x unloaded)"       flood_p99
    row "  current-user non-2xx + errors"          flood_check_bad
    row "uploads: connected / answered"            up_ans
    row "  closed by server / open at the end"     up_open
    row "VmRSS idle (after start)"                 rss_idle
    row "  session load peak"                      rss_session
    row "  login rounds peak"                      rss_login
    row "  flood peak"                             rss_flood
    row "  unfinished uploads peak"                up_rss
    row "  afterwards"                             rss_after
    row "  VmHWM (peak of the process)"            hwm
    row "gatehouse threads"                        threads
    pg_note=""
    [ "$need_pg" = 1 ] && pg_note="; PostgreSQL with fsync on"
    echo "(per mode: current-user $rounds interleaved rounds of ${secs}s, $conns connections;" \
         "login $login_rounds rounds of ${login_secs}s, $login_conns connections, each after" \
         "${hash_secs}s of Argon2id m=$argon2_mem t=$argon2_iter on $cores threads;" \
         "refresh ${refresh_secs}s, $refresh_conns connections;" \
         "flood ${flood_secs}s$pg_note)"
    if [ "$examples" = 1 ]; then
        echo
        printf '%-42s %18s\n' "example services, GET /whoami" "req/s"
        printf '%-42s %18s\n' "python-service (PyJWT, http.server)" "${ex[python_rps]}"
        printf '%-42s %18s\n' "node-service (jose, node:http)" "${ex[node_rps]}"
        printf '%-42s %18s\n' "  nginx req/s (same run)" "${ex[ng_rps]}"
        printf '%-42s %18s\n' "  ratio python / nginx" "$(ratio "${ex[python_rps]}" "${ex[ng_rps]}")"
        printf '%-42s %18s\n' "  ratio node / nginx" "$(ratio "${ex[node_rps]}" "${ex[ng_rps]}")"
        printf '%-42s %18s\n' "  python p50/p99 ms" "${ex[python_lat]}"
        printf '%-42s %18s\n' "  node p50/p99 ms" "${ex[node_lat]}"
        printf '%-42s %18s\n' "  nginx p50/p99 ms" "${ex[ng_lat]}"
        printf '%-42s %18s\n' "  non-2xx + sock. errs python/node" "${ex[python_bad]}/${ex[node_bad]}"
        echo "(each request's access token verified with the JWKS alone, ES256; ${example_secs}s each," \
             "$conns connections, against the ${modes[0]} mode's gatehouse)"
    fi
    echo
    # shellcheck disable=SC2059
    printf "$tfmt\n" "target" "measured" "reference" "ratio" "limit" "result"
    printf '%s\n' "${target_rows[@]}"
    echo "($n_pass PASS, $n_fail FAIL$([ "$n_na" -gt 0 ] && echo ", $n_na not measured"); users and sessions seeded per mode: $seed)"
}
for mode in "${modes[@]}"; do
    [ "${res[$mode bad]}" -eq 0 ] \
        || log "warning: $mode: ${res[$mode bad]} current-user requests were not 2xx or failed"
    [ "${res[$mode refresh_failed]}" -eq 0 ] \
        || log "warning: $mode: refreshes failed/starved/socket errors: ${res[$mode refresh_bad]}; first failures: ${res[$mode refresh_failures]}"
    [ "${res[$mode login_limited]}" -eq 0 ] \
        || log "warning: $mode: ${res[$mode login_limited]} logins were rate-limited (429); raise the per-IP limit with BENCH_SERVER_ENV"
    [ "${res[$mode login_other]}" -eq 0 ] \
        || log "warning: $mode: login saw ${res[$mode login_other]} other non-200 answers or socket errors"
done
if [ "$examples" = 1 ] && [ $(( ex[python_bad] + ex[node_bad] )) -ne 0 ]; then
    log "warning: examples: ${ex[python_bad]} python and ${ex[node_bad]} node answers were not 2xx or failed"
fi
exit 0
