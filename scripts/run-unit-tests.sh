#!/usr/bin/env bash
# Runs cmocka unit test binaries and sums up their results.
#
#   scripts/run-unit-tests.sh [--valgrind] BIN...
#
# Each binary's output is printed as it ran. The last line is "N passed, N failed", counting
# test cases over all binaries. A binary that exits non-zero without reporting a failed test
# (a crash, a leak found by valgrind) counts as one failure. Exits 1 when anything failed.
set -euo pipefail

usage() {
    echo "usage: $0 [--valgrind] BIN..." >&2
    exit 2
}

use_valgrind=0
bins=()
for arg in "$@"; do
    case "$arg" in
    --valgrind) use_valgrind=1 ;;
    -h | --help) usage ;;
    -*) echo "$0: unknown option $arg" >&2; usage ;;
    *) bins+=("$arg") ;;
    esac
done
[ "${#bins[@]}" -gt 0 ] || usage

runner=()
if [ "$use_valgrind" -eq 1 ]; then
    command -v valgrind >/dev/null || { echo "$0: valgrind is not installed" >&2; exit 2; }
    # shellcheck disable=SC2054 # the comma belongs to the option value
    runner=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
        --error-exitcode=99 -q)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

total_passed=0
total_failed=0
for bin in "${bins[@]}"; do
    echo "== $bin"
    if [ ! -x "$bin" ]; then
        echo "$bin: not an executable file" >&2
        total_failed=$((total_failed + 1))
        continue
    fi
    rc=0
    CMOCKA_MESSAGE_OUTPUT=stdout "${runner[@]}" "$bin" >"$log" 2>&1 || rc=$?
    cat "$log"
    # cmocka writes these two lines to stderr and the rest to stdout, so they are matched
    # anywhere in a line rather than at its start.
    passed=$(sed -n 's/.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
    failed=$(sed -n 's/.*\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        if [ "$rc" -eq 99 ] && [ "$use_valgrind" -eq 1 ]; then
            echo "$bin: valgrind found memory errors or leaks" >&2
        else
            echo "$bin: exited with status $rc" >&2
        fi
        failed=1
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
done

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
