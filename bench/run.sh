#!/usr/bin/env bash
# gatehouse benchmark: throughput as ratios against references measured in the
# same run (this machine's speed varies from run to run, so absolute numbers
# mean little; see bench/README.md).
#
#   bash bench/run.sh            (what `make bench` runs; needs build/gatehouse)
#
# For every backend mode in BENCH_MODES it starts a fresh gatehouse and measures
#   1. GET /users/current-user/ with a session cookie and with a Bearer access
#      token (wrk), against nginx answering a constant JSON body on the same
#      machine, rounds interleaved;
#   2. POST /api/token/refresh/, every request rotating a refresh token never
#      used before (each connection sends the successor the previous answer
#      gave it), against the same nginx figure;
#   3. POST /users/login/ throughput (200 answers only), against the raw
#      Argon2id verify rate of this machine (bench/hashrate.c, all cores,
#      measured once for all modes);
#   4. resident memory of the gatehouse process afterwards.
# and prints the modes side by side. Once, with the first mode's gatehouse, it
# also measures the example services of examples/ (PyJWT and jose verifying
# every request's access token with the JWKS alone) against nginx.
#
# Modes
#   sqlite           the default store: SQLite in a fresh data directory
#   postgres         a throwaway PostgreSQL 15 cluster (fsync on) started here
#   postgres+redis   the same, plus a throwaway redis-server for sessions and
#                    rate-limit counters (REDIS_URL)
#
# Environment (all optional)
#   BENCH_MODES              modes to run, space-separated
#                                        [sqlite postgres postgres+redis]
#   GATEHOUSE_BIN            server binary                     [build/gatehouse]
#   BENCH_SECONDS            length of one wrk run, seconds    [4]
#   BENCH_ROUNDS             current-user/nginx rounds         [2]
#   BENCH_THREADS            wrk threads                       [2]
#   BENCH_CONNECTIONS        wrk connections, cheap requests   [64]
#   BENCH_LOGIN_SECONDS      length of the login run           [6]
#   BENCH_LOGIN_CONNECTIONS  wrk connections, login            [16]
#   BENCH_REFRESH_SECONDS    length of the refresh run         [4]
#   BENCH_REFRESH_CONNECTIONS wrk connections, refresh         [16]
#   BENCH_EXAMPLES           1: measure the example services   [1]
#   BENCH_EXAMPLE_SECONDS    length of each example run        [4]
#   BENCH_HASH_SECONDS       length of the Argon2id reference  [6]
#   BENCH_PG_BIN             PostgreSQL programs   [/usr/lib/postgresql/15/bin]
#   BENCH_SERVER_ENV         extra KEY=VALUE settings for the server,
#                            space-separated (all modes)
#   BENCH_KEEP=1             keep the temporary directory (logs, configs)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

modes_str=${BENCH_MODES:-sqlite postgres postgres+redis}
bin=${GATEHOUSE_BIN:-build/gatehouse}
secs=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-2}
wrk_threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
login_secs=${BENCH_LOGIN_SECONDS:-6}
login_conns=${BENCH_LOGIN_CONNECTIONS:-16}
refresh_secs=${BENCH_REFRESH_SECONDS:-4}
refresh_conns=${BENCH_REFRESH_CONNECTIONS:-16}
examples=${BENCH_EXAMPLES:-1}
example_secs=${BENCH_EXAMPLE_SECONDS:-4}
hash_secs=${BENCH_HASH_SECONDS:-6}
pg_bin=${BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
cores=$(nproc)

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- checks
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

for tool in wrk nginx cc pkg-config curl awk; do
    command -v "$tool" >/dev/null 2>&1 \
        || die "$tool not found (scripts/install-deps.sh build bench installs what is missing)"
done
[ -x "$bin" ] || die "$bin not found or not executable (run make first)"
pkg-config --exists libsodium || die "libsodium not found by pkg-config"
if [ "$need_pg" = 1 ]; then
    for prog in initdb pg_ctl createdb; do
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
fi
[ "$refresh_conns" -ge "$wrk_threads" ] \
    || die "BENCH_REFRESH_CONNECTIONS ($refresh_conns) must be at least BENCH_THREADS ($wrk_threads)"
python=/usr/bin/python3   # Debian's interpreter, the one that sees python3-jwt
if [ "$examples" = 1 ]; then
    "$python" -c 'import jwt, cryptography' 2>/dev/null \
        || die "PyJWT not found for $python (scripts/install-deps.sh bench installs python3-jwt; or BENCH_EXAMPLES=0)"
    command -v node >/dev/null 2>&1 || die "node not found (or BENCH_EXAMPLES=0)"
    (cd examples/node-service && node -e "import('jose').catch(() => process.exit(1))") \
        || die "npm jose not found (scripts/install-deps.sh node; or BENCH_EXAMPLES=0)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
gh_pid=""
nginx_pid=""
redis_pid=""
py_pid=""    # the example services
node_pid=""
pg_data=""   # data directory of the running PostgreSQL cluster, if any

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

# Stop what this script started and remove its temporary directory.
# shellcheck disable=SC2317  # called through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$py_pid"
    stop_pid "$node_pid"
    py_pid="" node_pid=""
    stop_pid "$gh_pid"
    gh_pid=""
    stop_pg
    stop_pid "$redis_pid"
    redis_pid=""
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

# ratio A B: A / B with two decimals, "n/a" when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'; }

# ---------------------------------------------------------------- reference: Argon2id
log "compiling bench/hashrate.c"
mkdir -p build
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
cc -O2 -std=c17 -D_POSIX_C_SOURCE=200809L bench/hashrate.c \
    $(pkg-config --cflags --libs libsodium) -lpthread -o build/bench-hashrate

# Measured once, before any server runs, so nothing else competes for the cores.
log "Argon2id verify rate, $cores threads, ${hash_secs}s"
hash_line=$(build/bench-hashrate "$cores" "$hash_secs")
hash_rps=$(printf '%s\n' "$hash_line" | tr ' ' '\n' | sed -n 's/^per_second=//p')
[ -n "$hash_rps" ] || die "no per_second from bench-hashrate: $hash_line"

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
# database; sets pg_data and pg_url.
pg_url=""
start_postgres() {
    local dir=$1 port
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
    port=$(free_port)
    log "starting PostgreSQL on 127.0.0.1:$port"
    pg_data="$dir/data"   # from here on the cleanup stops it
    as_pg pg_ctl start -w -t 60 -D "$dir/data" -l "$dir/pg.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" \
        >"$dir/pg_ctl.log" 2>&1 \
        || { cat "$dir/pg_ctl.log" "$dir/pg.log" >&2 2>/dev/null; die "PostgreSQL did not start"; }
    as_pg createdb -h 127.0.0.1 -p "$port" -U postgres gatehouse >"$dir/createdb.log" 2>&1 \
        || { cat "$dir/createdb.log" >&2; die "createdb failed"; }
    pg_url="postgres://postgres@127.0.0.1:$port/gatehouse"
}

# start_redis DIR: a throwaway redis-server (no persistence) on a free loopback
# port; sets redis_pid and redis_url.
redis_url=""
redis_ping() {   # redis_ping PORT: print the first 5 bytes of the answer to PING
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3) \
        2>/dev/null || true
}
start_redis() {
    local dir=$1 port
    mkdir -p "$dir"
    port=$(free_port)
    log "starting redis-server on 127.0.0.1:$port"
    (cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no) >"$dir/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do
        if [ "$(redis_ping "$port")" = "+PONG" ]; then
            redis_url="redis://127.0.0.1:$port/0"
            return 0
        fi
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/redis.log" >&2 || true
    die "redis-server did not answer on 127.0.0.1:$port"
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

# gh_check: die with the server's exit status and last log lines when it is gone.
gh_log=""
gh_check() {
    kill -0 "$gh_pid" 2>/dev/null && return 0
    local rc=0
    wait "$gh_pid" 2>/dev/null || rc=$?
    gh_pid=""
    [ "$rc" -gt 128 ] && rc="$rc (signal $(kill -l "$rc" 2>/dev/null || echo $((rc - 128))))"
    tail -n 20 "$gh_log" >&2 || true
    die "gatehouse exited during the benchmark, status $rc"
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

# ---------------------------------------------------------------- one mode
run_mode() {
    local mode=$1 mdir data_dir base status confirm_url confirm_path session
    local email password login_json gh_sum=0 ng_sum=0 gh_bad=0 r login_line
    local bearer_sum=0 bearer_bad=0 access refresh_tokens refresh_line
    mdir="$tmp/${mode//+/-}"
    data_dir="$mdir/data"
    mkdir -p "$data_dir"
    gh_log="$mdir/gatehouse.log"
    log "==== mode $mode"

    local server_env=(
        GATEHOUSE_LISTEN=127.0.0.1:0
        GATEHOUSE_DATA_DIR="$data_dir"
        GATEHOUSE_LOG_FORMAT=json
        GATEHOUSE_LOG_REQUESTS=0
        # One client address hammers login on purpose: lift the per-IP and per-account limits so
        # the run measures hashing, not the rate limiter (which answers 429 in microseconds).
        GATEHOUSE_RATE_IP_MAX=100000000
        GATEHOUSE_RATE_ACCOUNT_MAX=100000000
        GATEHOUSE_RATE_ACCOUNT_CEILING=100000000
        # the access token of the Bearer runs and the example services outlives the mode
        GATEHOUSE_ACCESS_TOKEN_TTL=3600
    )
    case "$mode" in
        postgres|postgres+redis)
            start_postgres "$mdir/pg"
            server_env+=(DATABASE_URL="$pg_url")
            ;;
    esac
    if [ "$mode" = postgres+redis ]; then
        start_redis "$mdir/redis"
        server_env+=(REDIS_URL="$redis_url")
    fi
    # shellcheck disable=SC2206  # word splitting of the extra settings is wanted
    [ -n "${BENCH_SERVER_ENV:-}" ] && server_env+=(${BENCH_SERVER_ENV})

    log "starting $bin serve"
    # Only the first MiB of the server's stderr is kept (the start-up lines, the
    # port); the rest, such as per-request log lines, is read and dropped, so a
    # logging server neither fills the disk nor blocks on a full pipe.
    env "${server_env[@]}" "$bin" serve \
        </dev/null >"$mdir/gatehouse.stdout" \
        2> >(stdbuf -o0 head -c 1048576 >"$gh_log"; cat >/dev/null) &
    gh_pid=$!
    local gh_port=""
    for _ in $(seq 100); do
        gh_port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$gh_log" 2>/dev/null \
                  | head -n 1 | sed 's/.*://' || true)
        [ -n "$gh_port" ] && break
        kill -0 "$gh_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$gh_port" ]; then
        cat "$gh_log" >&2 || true
        die "gatehouse did not report its port"
    fi
    base="http://127.0.0.1:$gh_port"
    wait_http "$base/health-check/" || die "gatehouse does not answer on $base"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/health-check/")
    [ "$status" = 200 ] || die "health-check answered $status (database or Redis not reachable?)"
    log "gatehouse (pid $gh_pid) on $base"

    # ------------------------------------------------------------ a user with a session
    email="bench-$$-$RANDOM@example.com"
    password="Bench-$RANDOM-correct-horse-battery-staple"
    login_json="{\"email\":\"$email\",\"password\":\"$password\"}"

    # post PATH JSON: POST JSON, print the status code, body to $mdir/body, headers to $mdir/headers.
    post() {
        curl -s -o "$mdir/body" -D "$mdir/headers" -w '%{http_code}' --max-time 20 \
            -H 'Content-Type: application/json' --data "$2" "$base$1"
    }

    status=$(post /users/register/ \
        "{\"email\":\"$email\",\"password\":\"$password\",\"first_name\":\"Bench\",\"last_name\":\"Mark\"}")
    [ "$status" = 201 ] || die "register answered $status: $(cat "$mdir/body")"

    confirm_url=""
    for _ in $(seq 100); do
        confirm_url=$(grep -rhoE "^https?://[^[:space:]]*/users/register/confirm/\?token=[A-Za-z0-9_-]+" \
                      "$data_dir/mail" 2>/dev/null | head -n 1 || true)
        [ -n "$confirm_url" ] && break
        sleep 0.1
    done
    [ -n "$confirm_url" ] || die "no confirmation mail with a link under $data_dir/mail"
    # The link carries the public URL; fetch the same path and query on our port.
    confirm_path="/users/register/confirm/?${confirm_url#*\?}"
    status=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "$base$confirm_path")
    case "$status" in
        *regenerate-token*) die "confirmation link refused: $status" ;;
        2??*|3??*) ;;
        *) die "confirmation link answered $status" ;;
    esac

    status=$(post /users/login/ "$login_json")
    [ "$status" = 200 ] || die "login answered $status: $(cat "$mdir/body")"
    session=$(grep -i '^set-cookie: *sessionid=' "$mdir/headers" | head -n 1 \
              | sed -E 's/^[^:]*: *sessionid=([^;[:space:]]*).*/\1/')
    [ -n "$session" ] || die "login set no sessionid cookie"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
             -H "Cookie: sessionid=$session" "$base/users/current-user/")
    [ "$status" = 200 ] || die "current-user with the new session answered $status"
    log "user $email registered, confirmed and logged in"

    # A token pair for the Bearer runs and the examples.
    status=$(post /api/token/ "$login_json")
    [ "$status" = 200 ] || die "POST /api/token/ answered $status: $(cat "$mdir/body")"
    access=$(sed -n 's/.*"access":"\([^"]*\)".*/\1/p' "$mdir/body")
    [ -n "$access" ] || die "no access token in $(cat "$mdir/body")"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
             -H "Authorization: Bearer $access" "$base/users/current-user/")
    [ "$status" = 200 ] || die "current-user with the access token answered $status"

    # ------------------------------------------------------------ 1. current-user vs nginx
    log "warm-up"
    run_wrk "$mdir/warm-gh.txt" 1 "$conns" -H "Cookie: sessionid=$session" "$base/users/current-user/"
    run_wrk "$mdir/warm-bearer.txt" 1 "$conns" -H "Authorization: Bearer $access" "$base/users/current-user/"
    run_wrk "$mdir/warm-ng.txt" 1 "$conns" "http://127.0.0.1:$nginx_port/"

    for r in $(seq "$rounds"); do
        log "$mode round $r/$rounds: current-user with the cookie, ${secs}s"
        run_wrk "$mdir/gh-$r.txt" "$secs" "$conns" \
            -H "Cookie: sessionid=$session" "$base/users/current-user/"
        log "$mode round $r/$rounds: current-user with the Bearer token, ${secs}s"
        run_wrk "$mdir/bearer-$r.txt" "$secs" "$conns" \
            -H "Authorization: Bearer $access" "$base/users/current-user/"
        log "$mode round $r/$rounds: nginx, ${secs}s"
        run_wrk "$mdir/ng-$r.txt" "$secs" "$conns" "http://127.0.0.1:$nginx_port/"
        gh_sum=$(( gh_sum + $(wrk_field "$mdir/gh-$r.txt" rps) ))
        bearer_sum=$(( bearer_sum + $(wrk_field "$mdir/bearer-$r.txt" rps) ))
        ng_sum=$(( ng_sum + $(wrk_field "$mdir/ng-$r.txt" rps) ))
        gh_bad=$(( gh_bad + $(wrk_field "$mdir/gh-$r.txt" non2xx) + $(wrk_field "$mdir/gh-$r.txt" errors) ))
        bearer_bad=$(( bearer_bad + $(wrk_field "$mdir/bearer-$r.txt" non2xx) + $(wrk_field "$mdir/bearer-$r.txt" errors) ))
    done
    res[$mode gh_rps]=$(( gh_sum / rounds ))
    res[$mode bearer_rps]=$(( bearer_sum / rounds ))
    res[$mode ng_rps]=$(( ng_sum / rounds ))
    res[$mode gh_lat]="$(wrk_field "$mdir/gh-$rounds.txt" p50)/$(wrk_field "$mdir/gh-$rounds.txt" p99)"
    res[$mode bearer_lat]="$(wrk_field "$mdir/bearer-$rounds.txt" p50)/$(wrk_field "$mdir/bearer-$rounds.txt" p99)"
    res[$mode ng_lat]="$(wrk_field "$mdir/ng-$rounds.txt" p50)/$(wrk_field "$mdir/ng-$rounds.txt" p99)"
    res[$mode gh_bad]=$gh_bad
    res[$mode bearer_bad]=$bearer_bad

    # ------------------------------------------------------------ 2. refresh, each a fresh rotation
    log "$mode refresh: minting $(( refresh_conns + 1 )) refresh tokens"
    refresh_tokens=""
    for _ in $(seq $(( refresh_conns + 1 ))); do
        status=$(post /api/token/ "$login_json")
        [ "$status" = 200 ] || die "POST /api/token/ answered $status: $(cat "$mdir/body")"
        refresh_tokens="$refresh_tokens $(sed -n 's/.*"refresh":"\([^"]*\)".*/\1/p' "$mdir/body")"
    done
    { printf 'wrk.tokens = "%s"\nwrk.thread_count = %d\n' "$refresh_tokens" "$wrk_threads"
      cat "$tmp/refresh.lua.in"; } >"$mdir/refresh.lua"
    log "$mode refresh, ${refresh_secs}s, $refresh_conns connections"
    run_wrk "$mdir/refresh.txt" "$refresh_secs" "$refresh_conns" -s "$mdir/refresh.lua" \
        "$base/api/token/refresh/"
    refresh_line=$(grep '^REFRESH ' "$mdir/refresh.txt" || true)
    [ -n "$refresh_line" ] || { cat "$mdir/refresh.txt" >&2; die "no REFRESH line from wrk"; }
    rf() { printf '%s\n' "$refresh_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    res[$mode refresh_rps]=$(awk -v n="$(rf ok)" -v s="$(rf seconds)" 'BEGIN { printf "%.0f\n", n / s }')
    res[$mode refresh_lat]="$(wrk_field "$mdir/refresh.txt" p50)/$(wrk_field "$mdir/refresh.txt" p99)"
    res[$mode refresh_bad]="$(rf failed)/$(rf starved)/$(rf errors)"
    res[$mode refresh_failed]=$(( $(rf failed) + $(rf starved) + $(rf errors) ))
    res[$mode refresh_failures]=$(sed -n 's/^REFRESH_FAILURE //p' "$mdir/refresh.txt" | tr '\n' ';')

    # ------------------------------------------------------------ the examples (first mode only)
    if [ "$examples" = 1 ] && [ "$mode" = "${modes[0]}" ]; then
        run_examples "$mdir" "$base" "$access"
    fi

    # ------------------------------------------------------------ 3. login vs Argon2id
    { printf 'wrk.body = [==[%s]==]\n' "$login_json"; cat "$tmp/login.lua.in"; } >"$mdir/login.lua"
    log "$mode login, ${login_secs}s, $login_conns connections"
    run_wrk "$mdir/login.txt" "$login_secs" "$login_conns" -s "$mdir/login.lua" "$base/users/login/"
    login_line=$(grep '^LOGIN ' "$mdir/login.txt" || true)
    [ -n "$login_line" ] || { cat "$mdir/login.txt" >&2; die "no LOGIN line from wrk"; }
    lf() { printf '%s\n' "$login_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    res[$mode login_ok]=$(lf ok)
    res[$mode login_busy]=$(lf busy)
    res[$mode login_limited]=$(lf limited)
    res[$mode login_other]=$(lf other)
    res[$mode login_errors]=$(lf errors)
    res[$mode login_rps]=$(awk -v n="$(lf ok)" -v s="$(lf seconds)" 'BEGIN { printf "%.1f\n", n / s }')
    res[$mode login_lat]="$(wrk_field "$mdir/login.txt" p50)/$(wrk_field "$mdir/login.txt" p99)"

    # ------------------------------------------------------------ 4. memory
    res[$mode rss]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gh_pid/status")
    res[$mode hwm]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$gh_pid/status")
    res[$mode threads]=$(awk '/^Threads:/ { print $2 }' "/proc/$gh_pid/status")

    # ------------------------------------------------------------ stop this mode's processes
    # so they take no CPU from the next mode.
    stop_pid "$gh_pid"
    gh_pid=""
    stop_pg
    stop_pid "$redis_pid"
    redis_pid=""
}

for mode in "${modes[@]}"; do
    run_mode "$mode"
done

# ---------------------------------------------------------------- summary
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB\n", k / 1024 }'; }
w=16
# val MODE KEY: one summary cell.
val() {
    local m=$1
    case "$2" in
        gh_ratio)    ratio "${res[$m gh_rps]}" "${res[$m ng_rps]}" ;;
        bearer_ratio) ratio "${res[$m bearer_rps]}" "${res[$m ng_rps]}" ;;
        refresh_ratio) ratio "${res[$m refresh_rps]}" "${res[$m ng_rps]}" ;;
        hash_rps)    echo "$hash_rps" ;;
        login_ratio) ratio "${res[$m login_rps]}" "$hash_rps" ;;
        login_bad)   echo "${res[$m login_busy]}/${res[$m login_limited]}/${res[$m login_other]}/${res[$m login_errors]}" ;;
        rss|hwm)     mib "${res[$m $2]}" ;;
        *)           echo "${res[$m $2]}" ;;
    esac
}
row() {   # row LABEL KEY: the label, then one cell per mode
    local mode
    printf '%-38s' "$1"
    for mode in "${modes[@]}"; do
        printf " %${w}s" "$(val "$mode" "$2")"
    done
    printf '\n'
}
{
    echo
    echo "gatehouse bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores, wrk -t$wrk_threads"
    printf '%-38s' "measure"
    for mode in "${modes[@]}"; do printf " %${w}s" "$mode"; done
    printf '\n'
    row "current-user req/s, session cookie"   gh_rps
    row "current-user req/s, Bearer token"     bearer_rps
    row "  nginx req/s (same run)"             ng_rps
    row "  ratio cookie / nginx"               gh_ratio
    row "  ratio Bearer / nginx"               bearer_ratio
    row "  cookie p50/p99 ms (last round)"     gh_lat
    row "  Bearer p50/p99 ms (last round)"     bearer_lat
    row "  nginx p50/p99 ms (last round)"      ng_lat
    row "  cookie non-2xx + sock. errs"        gh_bad
    row "  Bearer non-2xx + sock. errs"        bearer_bad
    row "refresh/s, each a fresh rotation"     refresh_rps
    row "  ratio refresh / nginx"              refresh_ratio
    row "  refresh p50/p99 ms"                 refresh_lat
    row "  refresh failed/starved/sock. errs"  refresh_bad
    row "login/s, 200 only"                    login_rps
    row "  Argon2id verify/s (measured once)"  hash_rps
    row "  ratio login / Argon2id"             login_ratio
    row "  login p50/p99 ms"                   login_lat
    row "  login 503/429/other/sock. errs"     login_bad
    row "gatehouse VmRSS"                      rss
    row "gatehouse VmHWM (peak)"               hwm
    row "gatehouse threads"                    threads
    pg_note=""
    [ "$need_pg" = 1 ] && pg_note="; PostgreSQL with fsync on"
    echo "(per mode: current-user $rounds interleaved rounds of ${secs}s, $conns connections;" \
         "refresh ${refresh_secs}s, $refresh_conns connections;" \
         "login ${login_secs}s, $login_conns connections$pg_note)"
    if [ "$examples" = 1 ]; then
        echo
        printf '%-38s %16s\n' "example services, GET /whoami" "req/s"
        printf '%-38s %16s\n' "python-service (PyJWT, http.server)" "${ex[python_rps]}"
        printf '%-38s %16s\n' "node-service (jose, node:http)" "${ex[node_rps]}"
        printf '%-38s %16s\n' "  nginx req/s (same run)" "${ex[ng_rps]}"
        printf '%-38s %16s\n' "  ratio python / nginx" "$(ratio "${ex[python_rps]}" "${ex[ng_rps]}")"
        printf '%-38s %16s\n' "  ratio node / nginx" "$(ratio "${ex[node_rps]}" "${ex[ng_rps]}")"
        printf '%-38s %16s\n' "  python p50/p99 ms" "${ex[python_lat]}"
        printf '%-38s %16s\n' "  node p50/p99 ms" "${ex[node_lat]}"
        printf '%-38s %16s\n' "  nginx p50/p99 ms" "${ex[ng_lat]}"
        printf '%-38s %16s\n' "  non-2xx + sock. errs python/node" "${ex[python_bad]}/${ex[node_bad]}"
        echo "(each request's access token verified with the JWKS alone, ES256; ${example_secs}s each," \
             "$conns connections, against the ${modes[0]} mode's gatehouse)"
    fi
}
for mode in "${modes[@]}"; do
    [ "${res[$mode gh_bad]}" -eq 0 ] \
        || log "warning: $mode: ${res[$mode gh_bad]} current-user requests were not 2xx or failed"
    [ "${res[$mode bearer_bad]}" -eq 0 ] \
        || log "warning: $mode: ${res[$mode bearer_bad]} current-user requests with the Bearer token were not 2xx or failed"
    [ "${res[$mode refresh_failed]}" -eq 0 ] \
        || log "warning: $mode: refreshes failed/starved/socket errors: ${res[$mode refresh_bad]}; first failures: ${res[$mode refresh_failures]}"
    [ "${res[$mode login_limited]}" -eq 0 ] \
        || log "warning: $mode: ${res[$mode login_limited]} logins were rate-limited (429); raise the per-IP limit with BENCH_SERVER_ENV"
    if awk -v l="${res[$mode login_rps]}" -v h="$hash_rps" 'BEGIN { exit !(h > 0 && l > 1.1 * h) }'; then
        log "warning: $mode: login/s is above the Argon2id reference; the machine was probably busier while the reference ran (see bench/README.md)"
    fi
    if [ "${res[$mode login_other]}" -ne 0 ] || [ "${res[$mode login_errors]}" -ne 0 ]; then
        log "warning: $mode: login saw ${res[$mode login_other]} other non-200 answers and ${res[$mode login_errors]} socket errors"
    fi
done
if [ "$examples" = 1 ] && [ $(( ${ex[python_bad]} + ${ex[node_bad]} )) -ne 0 ]; then
    log "warning: examples: ${ex[python_bad]} python and ${ex[node_bad]} node answers were not 2xx or failed"
fi
exit 0
