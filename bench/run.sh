#!/usr/bin/env bash
# gatehouse benchmark: throughput as ratios against references measured in the
# same run (this machine's speed varies from run to run, so absolute numbers
# mean little; see bench/README.md).
#
#   bash bench/run.sh            (what `make bench` runs; needs build/gatehouse)
#
# Measures
#   1. GET /users/current-user/ with a session cookie (wrk), against nginx
#      answering a constant JSON body on the same machine, rounds interleaved;
#   2. POST /users/login/ throughput (200 answers only), against the raw
#      Argon2id verify rate of this machine (bench/hashrate.c, all cores);
#   3. resident memory of the gatehouse process afterwards.
#
# Environment (all optional)
#   GATEHOUSE_BIN            server binary                     [build/gatehouse]
#   BENCH_SECONDS            length of one wrk run, seconds    [5]
#   BENCH_ROUNDS             current-user/nginx rounds         [3]
#   BENCH_THREADS            wrk threads                       [2]
#   BENCH_CONNECTIONS        wrk connections, cheap requests   [64]
#   BENCH_LOGIN_SECONDS      length of the login run           [10]
#   BENCH_LOGIN_CONNECTIONS  wrk connections, login            [16]
#   BENCH_HASH_SECONDS       length of the Argon2id reference  [8]
#   BENCH_SERVER_ENV         extra KEY=VALUE settings for the server,
#                            space-separated
#   BENCH_KEEP=1             keep the temporary directory (logs, configs)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

bin=${GATEHOUSE_BIN:-build/gatehouse}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
wrk_threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
login_secs=${BENCH_LOGIN_SECONDS:-10}
login_conns=${BENCH_LOGIN_CONNECTIONS:-16}
hash_secs=${BENCH_HASH_SECONDS:-8}
cores=$(nproc)

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in wrk nginx cc pkg-config curl awk; do
    command -v "$tool" >/dev/null 2>&1 \
        || die "$tool not found (scripts/install-deps.sh build bench installs what is missing)"
done
[ -x "$bin" ] || die "$bin not found or not executable (run make first)"
pkg-config --exists libsodium || die "libsodium not found by pkg-config"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
gh_pid=""
nginx_pid=""

# Stop what this script started and remove its temporary directory.
# shellcheck disable=SC2317  # called through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in $gh_pid $nginx_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $gh_pid $nginx_pid; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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
        port=$(( 20000 + RANDOM % 40000 ))
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

# ---------------------------------------------------------------- gatehouse
data_dir="$tmp/data"
mkdir -p "$data_dir"
gh_log="$tmp/gatehouse.log"
server_env=(
    GATEHOUSE_LISTEN=127.0.0.1:0
    GATEHOUSE_DATA_DIR="$data_dir"
    GATEHOUSE_LOG_FORMAT=json
    GATEHOUSE_LOG_REQUESTS=0
    # One client address hammers login on purpose: lift the per-IP and per-account limits so
    # the run measures hashing, not the rate limiter (which answers 429 in microseconds).
    GATEHOUSE_RATE_IP_MAX=100000000
    GATEHOUSE_RATE_ACCOUNT_MAX=100000000
)
# shellcheck disable=SC2206  # word splitting of the extra settings is wanted
[ -n "${BENCH_SERVER_ENV:-}" ] && server_env+=(${BENCH_SERVER_ENV})
log "starting $bin serve"
# Only the first MiB of the server's stderr is kept (the start-up lines, the
# port); the rest, such as per-request log lines, is read and dropped, so a
# logging server neither fills the disk nor blocks on a full pipe.
env "${server_env[@]}" "$bin" serve \
    </dev/null >"$tmp/gatehouse.stdout" \
    2> >(stdbuf -o0 head -c 1048576 >"$gh_log"; cat >/dev/null) &
gh_pid=$!
gh_port=""
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
log "gatehouse (pid $gh_pid) on $base"

# ---------------------------------------------------------------- a user with a session
email="bench-$$-$RANDOM@example.com"
password="Bench-$RANDOM-correct-horse-battery-staple"
login_json="{\"email\":\"$email\",\"password\":\"$password\"}"

# post PATH JSON: POST JSON, print the status code, body to $tmp/body, headers to $tmp/headers.
post() {
    curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 20 \
        -H 'Content-Type: application/json' --data "$2" "$base$1"
}

status=$(post /users/register/ \
    "{\"email\":\"$email\",\"password\":\"$password\",\"first_name\":\"Bench\",\"last_name\":\"Mark\"}")
[ "$status" = 201 ] || die "register answered $status: $(cat "$tmp/body")"

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
[ "$status" = 200 ] || die "login answered $status: $(cat "$tmp/body")"
session=$(grep -i '^set-cookie: *sessionid=' "$tmp/headers" | head -n 1 \
          | sed -E 's/^[^:]*: *sessionid=([^;[:space:]]*).*/\1/')
[ -n "$session" ] || die "login set no sessionid cookie"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
         -H "Cookie: sessionid=$session" "$base/users/current-user/")
[ "$status" = 200 ] || die "current-user with the new session answered $status"
log "user $email registered, confirmed and logged in"

# ---------------------------------------------------------------- 1. current-user vs nginx
# gh_check: die with the server's exit status and last log lines when it is gone.
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
log "warm-up"
run_wrk "$tmp/warm-gh.txt" 1 "$conns" -H "Cookie: sessionid=$session" "$base/users/current-user/"
run_wrk "$tmp/warm-ng.txt" 1 "$conns" "http://127.0.0.1:$nginx_port/"

gh_sum=0 ng_sum=0 gh_bad=0
for r in $(seq "$rounds"); do
    log "round $r/$rounds: current-user, ${secs}s"
    run_wrk "$tmp/gh-$r.txt" "$secs" "$conns" \
        -H "Cookie: sessionid=$session" "$base/users/current-user/"
    log "round $r/$rounds: nginx, ${secs}s"
    run_wrk "$tmp/ng-$r.txt" "$secs" "$conns" "http://127.0.0.1:$nginx_port/"
    gh_sum=$(( gh_sum + $(wrk_field "$tmp/gh-$r.txt" rps) ))
    ng_sum=$(( ng_sum + $(wrk_field "$tmp/ng-$r.txt" rps) ))
    gh_bad=$(( gh_bad + $(wrk_field "$tmp/gh-$r.txt" non2xx) + $(wrk_field "$tmp/gh-$r.txt" errors) ))
done
gh_rps=$(( gh_sum / rounds ))
ng_rps=$(( ng_sum / rounds ))
gh_p50=$(wrk_field "$tmp/gh-$rounds.txt" p50); gh_p99=$(wrk_field "$tmp/gh-$rounds.txt" p99)
ng_p50=$(wrk_field "$tmp/ng-$rounds.txt" p50); ng_p99=$(wrk_field "$tmp/ng-$rounds.txt" p99)

# ---------------------------------------------------------------- 2. login vs Argon2id
cat >"$tmp/login.lua" <<EOF
-- POST the login JSON; count answers by status in every thread, sum in done().
wrk.method = "POST"
wrk.body = [==[$login_json]==]
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
log "login, ${login_secs}s, $login_conns connections"
run_wrk "$tmp/login.txt" "$login_secs" "$login_conns" -s "$tmp/login.lua" "$base/users/login/"
login_line=$(grep '^LOGIN ' "$tmp/login.txt" || true)
[ -n "$login_line" ] || { cat "$tmp/login.txt" >&2; die "no LOGIN line from wrk"; }
lf() { printf '%s\n' "$login_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
login_ok=$(lf ok); login_busy=$(lf busy); login_limited=$(lf limited)
login_other=$(lf other); login_errors=$(lf errors)
login_rps=$(awk -v n="$login_ok" -v s="$(lf seconds)" 'BEGIN { printf "%.1f\n", n / s }')
login_p50=$(wrk_field "$tmp/login.txt" p50); login_p99=$(wrk_field "$tmp/login.txt" p99)

log "Argon2id verify rate, $cores threads, ${hash_secs}s"
hash_line=$(build/bench-hashrate "$cores" "$hash_secs")
hash_rps=$(printf '%s\n' "$hash_line" | tr ' ' '\n' | sed -n 's/^per_second=//p')

# ---------------------------------------------------------------- 3. memory
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gh_pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$gh_pid/status")
gh_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$gh_pid/status")

# ---------------------------------------------------------------- summary
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB\n", k / 1024 }'; }
{
    echo
    echo "gatehouse bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores, wrk -t$wrk_threads"
    printf '%-34s %12s %12s %8s\n' "measure" "gatehouse" "reference" "ratio"
    printf '%-34s %12s %12s %8s\n' "current-user req/s (vs nginx)" \
        "$gh_rps" "$ng_rps" "$(ratio "$gh_rps" "$ng_rps")"
    printf '%-34s %12s %12s\n' "  latency p50 / p99 ms (last round)" \
        "$gh_p50/$gh_p99" "$ng_p50/$ng_p99"
    printf '%-34s %12s %12s %8s\n' "login/s, 200 only (vs Argon2id/s)" \
        "$login_rps" "$hash_rps" "$(ratio "$login_rps" "$hash_rps")"
    printf '%-34s %12s\n' "  login latency p50 / p99 ms" "$login_p50/$login_p99"
    printf '%-34s %12s\n' "  login non-200: 503 / 429 / other" \
        "$login_busy/$login_limited/$login_other"
    printf '%-34s %12s\n' "gatehouse VmRSS" "$(mib "$rss")"
    printf '%-34s %12s\n' "gatehouse VmHWM (peak)" "$(mib "$hwm")"
    printf '%-34s %12s\n' "gatehouse threads" "$gh_threads"
    echo "(current-user: $rounds interleaved rounds of ${secs}s, $conns connections;" \
         "login: ${login_secs}s, $login_conns connections)"
} 
[ "$gh_bad" -eq 0 ] || log "warning: $gh_bad current-user requests were not 2xx or failed"
[ "$login_limited" -eq 0 ] \
    || log "warning: $login_limited logins were rate-limited (429); raise the per-IP limit with BENCH_SERVER_ENV"
if [ "$login_other" -ne 0 ] || [ "$login_errors" -ne 0 ]; then
    log "warning: login saw $login_other other non-200 answers and $login_errors socket errors"
fi
exit 0
