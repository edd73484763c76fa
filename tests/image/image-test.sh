#!/usr/bin/env bash
# The smoke test of the container image (make image-test, after make image): runs
# tests/image/image.test.js, then prints the figures of the build and of the run kept in
# build/podman/figures. Exits with the test's status.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${GATEHOUSE_PODMAN_DIR:-$root/build/podman}
cd "$root"

node --test --test-reporter=spec tests/image/
status=$?

# value NAME: a recorded figure, or empty.
value() { sed -n "s/^$1=//p" "$dir/figures" 2>/dev/null | tail -n 1; }
line() { [ -n "$2" ] && printf '  %-46s %s\n' "$1" "$2"; return 0; }
mb() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
s() { [ -n "$1" ] && echo "$1 s"; }

echo
echo "image figures:"
line "base (mmdebstrap + podman import)" "$(s "$(value base_seconds)")"
line "image build, cold (no cached layer)" "$(s "$(value build_seconds_cold)")"
line "image build, warm (every layer cached)" "$(s "$(value build_seconds_warm)")"
line "image build, last (make image)" "$(s "$(value last_build_seconds)") $(value last_build_cache)"
line "image size" "$(mb "$(value image_bytes)")"
line "podman run to first healthy answer" "$(s "$(value first_healthy_seconds)")"
line "podman stop (SIGTERM) to exit 0" "$(s "$(value stop_seconds)")"
exit "$status"
