// The Makefile: a parallel build generates the embedded web UI once (two jobs writing the same
// files broke `make -j2` from a clean tree), a missing library is named, with the way to
// install it, instead of surfacing as a compiler error, and the image store under the build
// directory is not taken for dependency files. Each check builds into a throwaway
// directory (BUILD=...) and compiles nothing that takes long.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/server.js';

const PKGS = ['libsodium', 'jansson', 'sqlite3', 'libcurl', 'libpq', 'hiredis'];
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function buildDir() {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-build-'));
  dirs.push(d);
  return d;
}

function make(args, env = {}) {
  const r = spawnSync('make', ['--no-print-directory', ...args], {
    cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('make -j2 generates the embedded web UI files with one run of the script', () => {
  const b = buildDir();
  const r = make(['-n', '-j2', `BUILD=${b}`, `${b}/gen/web_files.S`, `${b}/gen/web_files.c`]);
  assert.equal(r.status, 0, r.out);
  const runs = r.out.split('\n').filter((l) => l.includes('scripts/embed-web.sh'));
  assert.equal(runs.length, 1, `embed-web.sh runs once, not once per file:\n${r.out}`);
});

test('a missing library stops the build with a message naming it and the install script', () => {
  const b = buildDir();
  const r = make([`BUILD=${b}`, `${b}/obj/src/util/secret.o`], { PKG_CONFIG_PATH: '', PKG_CONFIG_LIBDIR: '/nonexistent' });
  assert.notEqual(r.status, 0, `the build must fail:\n${r.out}`);
  assert.match(r.out, /missing pkg-config package\(s\)/, r.out);
  for (const p of PKGS) assert.match(r.out, new RegExp(`\\b${p}\\b`), `names ${p}: ${r.out}`);
  assert.match(r.out, /scripts\/install-deps\.sh/, r.out);
});

test('a libmicrohttpd that was not built stops the build with a message naming it and the install script', () => {
  const b = buildDir();
  const r = make([`BUILD=${b}`, `MHD_PREFIX=${b}/no-libmicrohttpd`, `${b}/obj/src/util/secret.o`]);
  assert.notEqual(r.status, 0, `the build must fail:\n${r.out}`);
  assert.match(r.out, /missing libmicrohttpd/, r.out);
  assert.match(r.out, /scripts\/install-deps\.sh/, r.out);
});

test('a libmicrohttpd tarball without the pinned SHA-256 is refused and nothing is built from it', () => {
  const b = buildDir();
  writeFileSync(join(b, 'evil.tar.gz'), 'not the release');
  const r = spawnSync(join(REPO_ROOT, 'scripts/build-libmicrohttpd.sh'), [join(b, 'deps', 'libmicrohttpd')], {
    env: { ...process.env, LIBMICROHTTPD_URL: `file://${join(b, 'evil.tar.gz')}` }, encoding: 'utf8', timeout: 60000,
  });
  assert.notEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /does not have the expected SHA-256/, r.stderr);
  assert.deepEqual(readdirSync(join(b, 'deps')), [], 'no tarball kept, no prefix made');
});

test('make run still installs the packages before the check (the check belongs to compiling)', () => {
  const b = buildDir();
  const r = make(['-n', `BUILD=${b}`, 'run'], { PKG_CONFIG_PATH: '', PKG_CONFIG_LIBDIR: '/nonexistent' });
  assert.equal(r.status, 0, r.out);
  const lines = r.out.split('\n').filter(Boolean);
  assert.match(lines[0], /scripts\/install-deps\.sh build/, r.out);
});

test('the podman store under the build directory is not read as dependency files', () => {
  const b = buildDir();
  // an image tree holds directories such as etc/ca-certificates/update.d and files ending in .d
  mkdirSync(join(b, 'podman', 'storage', 'overlay', 'x', 'diff', 'etc', 'update.d'), { recursive: true });
  writeFileSync(join(b, 'podman', 'storage', 'overlay', 'x', 'diff', 'etc', 'rules.d'), 'not: a makefile\n\tat all\n');
  const r = make(['-n', `BUILD=${b}`, `${b}/gen/web_files.c`]);
  assert.equal(r.status, 0, r.out);
});
