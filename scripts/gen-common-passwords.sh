#!/usr/bin/env bash
# Regenerate assets/common-passwords.txt, the list of common and breached
# passwords that the password policy rejects (SPEC §8). The server embeds the
# file at build time and matches case-insensitively.
#
# Sources (both MIT, see assets/common-passwords.LICENSE), fetched with
# `npm pack` into a temporary directory; nothing is installed into the
# repository:
#   zxcvbn@4.4.2                      lib/frequency_lists.js, list `passwords`
#   @zxcvbn-ts/language-common@4.1.3  src/passwords.json
# The union is lower-cased; only printable ASCII entries of length >= 1 are
# kept; the result is unique and sorted bytewise (LC_ALL=C sort -u), one
# password per line.
#
#   scripts/gen-common-passwords.sh [output-file]
set -euo pipefail

log() { printf 'gen-common-passwords: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo_root/assets/common-passwords.txt}

command -v npm >/dev/null 2>&1 || die "npm not found"
command -v node >/dev/null 2>&1 || die "node not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch SPEC DIR: npm pack SPEC and unpack it into $tmp/DIR.
fetch() {
    local spec=$1 dir=$2 tarball
    log "fetching $spec"
    tarball=$(cd "$tmp" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)
    [ -f "$tmp/$tarball" ] || die "npm pack $spec failed"
    mkdir -p "$tmp/$dir"
    tar -xzf "$tmp/$tarball" -C "$tmp/$dir"
}

fetch zxcvbn@4.4.2 zxcvbn
fetch @zxcvbn-ts/language-common@4.1.3 zxcvbn-ts

# zxcvbn exports { passwords: [...], english_wikipedia: [...], ... };
# @zxcvbn-ts/language-common ships the password list as a JSON array.
node -e '
  const a = require(process.argv[1]).passwords;
  const b = require(process.argv[2]);
  for (const l of [a, b])
    if (!Array.isArray(l) || l.length < 10000) throw new Error("unexpected list shape");
  process.stdout.write(a.concat(b).join("\n") + "\n");
' "$tmp/zxcvbn/package/lib/frequency_lists.js" \
  "$tmp/zxcvbn-ts/package/src/passwords.json" > "$tmp/raw.txt"

LC_ALL=C tr '[:upper:]' '[:lower:]' < "$tmp/raw.txt" \
    | LC_ALL=C grep -E '^[ -~]+$' \
    | LC_ALL=C sort -u > "$tmp/list.txt"

n=$(wc -l < "$tmp/list.txt")
[ "$n" -ge 10000 ] || die "only $n entries (need at least 10000)"
mkdir -p "$(dirname "$out")"
mv "$tmp/list.txt" "$out"
log "wrote $n passwords to $out"
