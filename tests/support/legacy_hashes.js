// Password hashes made by the producers gatehouse imports from (Django, argon2-cffi, passlib),
// through tests/support/make_hashes.py on Debian's python3 packages.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'make_hashes.py');

/** {name: hash} for specs [{name, producer, hasher, iterations, t, m, p}], all of password. */
export function produceHashes(password, specs) {
  return JSON.parse(execFileSync('/usr/bin/python3', [SCRIPT], { input: JSON.stringify({ password, specs }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

/** Hashes for items [{password, spec}], in order. */
export function produceHashList(items) {
  return JSON.parse(execFileSync('/usr/bin/python3', [SCRIPT], { input: JSON.stringify({ items }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}
