#!/usr/bin/env bash
# Runs libFuzzer harnesses one after the other and sums up what they found.
#
#   scripts/run-fuzz.sh SECONDS BIN...
#
# Each harness build/fuzz/NAME runs for SECONDS on its working corpus build/fuzz/corpus/NAME,
# which starts as a copy of the committed seeds fuzz/corpus/NAME and keeps what earlier runs
# found (the repository is never written to), with fuzz/NAME.dict when there is one. Its whole
# output goes to build/fuzz/logs/NAME.log; a crash, leak or timeout input is saved under
# build/fuzz/artifacts/NAME/. One line per harness tells the result, the executions and the
# executions per second; a failure also prints the sanitizer report. Exits 1 when any harness
# failed.
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS BIN..." >&2
    exit 2
}

[ $# -ge 2 ] || usage
seconds=$1
shift
case "$seconds" in
'' | *[!0-9]*) echo "$0: SECONDS must be a whole number, not '$seconds'" >&2; usage ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The value of libFuzzer's final statistic NAME in log, or "?" when it did not print it.
final_stat() {
    local v
    v=$(grep -a -o "^stat::$1: *[0-9]*" "$2" | tail -1 | grep -o '[0-9]*$' || true)
    echo "${v:-?}"
}

failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    out=$(cd "$(dirname "$bin")" && pwd)
    seeds="$repo/fuzz/corpus/$name"
    corpus="$out/corpus/$name"
    artifacts="$out/artifacts/$name"
    tmp="$out/tmp/$name"
    log="$out/logs/$name.log"
    if [ ! -x "$bin" ]; then
        echo "fuzz $name: $bin is not an executable file" >&2
        failed=$((failed + 1))
        continue
    fi
    rm -rf "$tmp"
    mkdir -p "$corpus" "$artifacts" "$tmp" "$(dirname "$log")"
    [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
    args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
    [ -f "$repo/fuzz/$name.dict" ] && args+=(-dict="$repo/fuzz/$name.dict")

    echo "fuzz $name: running for ${seconds}s on $(ls "$corpus" | wc -l) inputs"
    start=$(date +%s)
    rc=0
    TMPDIR="$tmp" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
        "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    elapsed=$(($(date +%s) - start))
    [ "$elapsed" -gt 0 ] && took="${elapsed}s" || took="<1s"
    rm -rf "$tmp"

    runs=$(final_stat number_of_executed_units "$log")
    speed=$(final_stat average_exec_per_sec "$log")
    if [ "$rc" -eq 0 ]; then
        result="ok"
    else
        failed=$((failed + 1))
        artifact=$(grep -a -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
        case "$(basename "${artifact:-none}")" in
        crash-*) result="CRASH" ;;
        leak-*) result="LEAK" ;;
        timeout-*) result="TIMEOUT" ;;
        oom-*) result="OUT OF MEMORY" ;;
        *) grep -a -q 'LeakSanitizer: detected memory leaks' "$log" && result="LEAK" ||
            result="FAILED (exit $rc)" ;;
        esac
        [ -n "$artifact" ] && result="$result after $took, input saved as ${artifact#"$repo/"}"
    fi
    # libFuzzer counts whole seconds: a run that ended in its first one reports 0 exec/s
    [ "$speed" = 0 ] && speed_text="$runs runs in $took" || speed_text="$runs runs, $speed exec/s"
    echo "fuzz $name: $result; $speed_text"
    if [ "$rc" -ne 0 ]; then
        # the report: from the harness's or a sanitizer's first word to libFuzzer's last
        first=$(grep -a -n -m1 -E "^fuzz/$name: |^==[0-9]+==ERROR|runtime error:|ERROR: libFuzzer|LeakSanitizer" "$log" | cut -d: -f1 || true)
        sed -n "${first:-1},\$p" "$log" | grep -a -v '^Base64:' | head -n 60 | sed 's/^/    /'
        echo "    (whole output: ${log#"$repo/"})"
    fi
done

total=$#
echo "fuzz: $((total - failed)) of $total harnesses passed, $failed failed"
[ "$failed" -eq 0 ]
