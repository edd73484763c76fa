// The container image as its users run it (make image-test, after make image): `podman run -p`
// with a named volume and a read-only root filesystem, health and readiness, the uid the server
// runs as, `gatehouse user create` through `podman exec`, register / confirm / log in through
// the published port with the confirmation link from the mail file in the volume, a new
// container on the same volume that keeps the accounts and the session, SIGTERM ending it at
// once with exit 0, and the same on PostgreSQL + Redis started by the test harness, reached
// over the host's network (`--network host`: the container shares the host's loopback).
//
// Every podman command goes through scripts/podman.sh (the checkout's own store) and passes
// --pull=never: nothing is ever fetched from a registry. GATEHOUSE_IMAGE names the image
// (default localhost/gatehouse:latest). The time from `podman run` to the first healthy answer
// is added to build/podman/figures, which tests/image/image-test.sh prints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import {
  PASSWORD, randomEmail, sleep, post, get, confirmationLink, pathOf, loginOk, currentUser,
  updateUser, png1x1, expectMessage, waitUntil,
} from '../support/server.js';
import { startPostgres, PG_BIN } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { freePort } from '../support/ports.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PODMAN = join(ROOT, 'scripts', 'podman.sh');
const PODMAN_DIR = process.env.GATEHOUSE_PODMAN_DIR || join(ROOT, 'build', 'podman');
const IMAGE = process.env.GATEHOUSE_IMAGE || 'localhost/gatehouse:latest';
const UID = 10001;
const RUN = `gatehouse-imagetest-${randomBytes(4).toString('hex')}`;
const HEALTHY_WITHIN_MS = 20_000;
const STOP_WITHIN_MS = 5_000;

const containers = new Set();
const volumes = new Set();

/** Runs scripts/podman.sh ARGS; throws with its output unless it exits 0 (or opts.check is
 * false). Resolves nothing: it is synchronous. Returns {status, stdout, stderr}. */
function podman(args, { input, check = true } = {}) {
  const r = spawnSync(PODMAN, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (check && r.status !== 0) {
    throw new Error(`podman ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** `podman run -d --pull=never` of the image as a user would start it: a named volume on the
 * data directory and a read-only root filesystem (without the tmpfs podman would otherwise
 * mount on /tmp, as docker does not either). Returns the container's name. */
function runContainer(name, volume, args) {
  containers.add(name);
  volumes.add(volume);
  podman(['run', '-d', '--pull=never', '--name', name, '--read-only', '--read-only-tmpfs=false',
    '-v', `${volume}:/var/lib/gatehouse`, ...args, IMAGE]);
  return name;
}

/** Polls GET url/health-check/ until it answers 200; resolves with the milliseconds since t0. */
async function firstHealthy(url, t0, name) {
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  for (;;) {
    try {
      const r = await fetch(`${url}/health-check/`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return performance.now() - t0;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      const logs = podman(['logs', name], { check: false });
      throw new Error(`${name} did not answer ${url}/health-check/ within ${HEALTHY_WITHIN_MS} ms:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(20);
  }
}

/** The host directory of a named volume (podman runs as root here, so it is readable). */
function volumeDir(volume) {
  return podman(['volume', 'inspect', volume, '--format', '{{.Mountpoint}}']).stdout.trim();
}

function inspect(name, format) {
  return podman(['inspect', name, '--format', format]).stdout.trim();
}

/** `podman stop` (SIGTERM, the image's STOPSIGNAL); asserts a prompt exit with status 0. */
function stopCleanly(name) {
  const t0 = performance.now();
  podman(['stop', '-t', '10', name]);
  const ms = performance.now() - t0;
  assert.equal(inspect(name, '{{.State.ExitCode}}'), '0', `${name} exits 0 on SIGTERM`);
  assert.ok(ms < STOP_WITHIN_MS, `${name} stopped in ${Math.round(ms)} ms (SIGTERM, not the kill after the timeout)`);
  const logs = podman(['logs', name]);
  assert.match(logs.stdout + logs.stderr, /"msg":"stopped"/, 'the server logged its clean stop');
  return ms;
}

/** Records NAME=VALUE in build/podman/figures for tests/image/image-test.sh to print. */
function figure(name, value) {
  const file = join(PODMAN_DIR, 'figures');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${name}=`)) : [];
  lines.push(`${name}=${value}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Registers a new account through the published port, opens the confirmation link from the
 * mail file in the volume, logs in; returns {email, cookie}. */
async function registerConfirmLogin(server) {
  const email = randomEmail('image');
  expectMessage(await post(server, '/users/register/', { email, password: PASSWORD, first_name: 'Ada', last_name: 'Lovelace' }), 201);
  const link = await confirmationLink(server, email, { timeoutMs: 10_000 });
  assert.ok(link.startsWith(`${server.url}/users/register/confirm/`), `the mailed link ${link} uses the public URL ${server.url}`);
  const confirmed = await get(server, pathOf(link));
  assert.equal(confirmed.status, 303, `confirm: ${confirmed.status} ${confirmed.text}`);
  assert.match(confirmed.headers.get('location') || '', /\/auth\/confirmed$/);
  const cookie = await loginOk(server, { email, password: PASSWORD });
  assert.equal((await currentUser(server, cookie)).email, email);
  return { email, cookie };
}

before(() => {
  const r = podman(['image', 'exists', IMAGE], { check: false });
  assert.equal(r.status, 0, `no image ${IMAGE} in the store of scripts/podman.sh: run make image first`);
});

after(() => {
  for (const c of containers) podman(['rm', '-f', '-t', '0', c], { check: false });
  for (const v of volumes) podman(['volume', 'rm', '-f', v], { check: false });
});

test('the image runs gatehouse as uid 10001 on 0.0.0.0:5000 with a volume and a health check', () => {
  const config = JSON.parse(podman(['image', 'inspect', IMAGE, '--format', '{{json .Config}}']).stdout);
  assert.equal(config.User, `${UID}:${UID}`);
  assert.deepEqual(config.Entrypoint, ['/usr/local/bin/gatehouse']);
  assert.deepEqual(config.Cmd, ['serve']);
  assert.deepEqual(Object.keys(config.ExposedPorts || {}), ['5000/tcp']);
  assert.deepEqual(Object.keys(config.Volumes || {}), ['/var/lib/gatehouse']);
  assert.equal(config.StopSignal, 'SIGTERM');
  for (const e of ['GATEHOUSE_LISTEN=0.0.0.0:5000', 'GATEHOUSE_DATA_DIR=/var/lib/gatehouse', 'TMPDIR=/var/lib/gatehouse']) {
    assert.ok(config.Env.includes(e), `${e} in ${config.Env}`);
  }
  const health = JSON.parse(podman(['image', 'inspect', IMAGE, '--format', '{{json .HealthCheck}}']).stdout);
  assert.deepEqual(health.Test, ['CMD', '/usr/local/bin/gatehouse', 'healthcheck']);
  // only the runtime libraries: no compiler, no -dev package, no HTTP client
  const tools = podman(['run', '--rm', '--pull=never', '--entrypoint', 'sh', IMAGE, '-c',
    'for t in gcc cc make curl wget; do command -v $t; done; dpkg-query -W -f "\\${Package}\\n" | grep -- "-dev$" || true']);
  assert.equal(tools.stdout.trim(), '', `build tools or -dev packages in the runtime image:\n${tools.stdout}`);
});

test('the production settings of the README are accepted, and refused without the key', () => {
  const production = ['-e', 'GATEHOUSE_ENV=production', '-e', 'GATEHOUSE_PUBLIC_URL=https://auth.example.com',
    '-e', 'GATEHOUSE_MAIL_URL=smtp://user:password@smtp.example.com:587',
    '-e', 'GATEHOUSE_MAIL_FROM=Example <noreply@example.com>',
    '-e', 'DATABASE_URL=postgres://gatehouse:secret@postgres:5432/gatehouse', '-e', 'REDIS_URL=redis://redis:6379/0'];
  const key = ['-e', `GATEHOUSE_KEY_ENCRYPTION_KEY=${randomBytes(48).toString('base64')}`];
  const ok = podman(['run', '--rm', '--pull=never', '--read-only', ...production, ...key, IMAGE, 'config'], { check: false });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^GATEHOUSE_COOKIE_SECURE=auto$/m);
  assert.match(ok.stdout, /^GATEHOUSE_KEY_ENCRYPTION_KEY=\*+$/m, 'the key is masked');
  const refused = podman(['run', '--rm', '--pull=never', '--read-only', ...production, IMAGE, 'config'], { check: false });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /GATEHOUSE_KEY_ENCRYPTION_KEY is required when GATEHOUSE_ENV=production/);
  // the image's own public URL is http: production refuses it until it is set
  const http = podman(['run', '--rm', '--pull=never', '--read-only', '-e', 'GATEHOUSE_ENV=production', IMAGE, 'config'], { check: false });
  assert.equal(http.status, 1);
  assert.match(http.stderr, /GATEHOUSE_PUBLIC_URL must be an https:\/\/ URL/);
});

let server; // {url, dataDir, port, volume}: the SQLite container's published port and volume
let admin;  // the account made with `gatehouse user create`
let user;   // {email, cookie} of the account registered through the port

test('podman run -p with a volume answers health and readiness, and the image health check passes', async () => {
  const port = await freePort();
  const volume = `${RUN}-data`;
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const name = runContainer(`${RUN}-a`, volume, ['-p', `127.0.0.1:${port}:5000`, '-e', `GATEHOUSE_PUBLIC_URL=${url}`]);
  const ms = await firstHealthy(url, t0, name);
  figure('first_healthy_seconds', (ms / 1000).toFixed(2));
  console.log(`# first healthy answer ${(ms / 1000).toFixed(2)} s after podman run`);
  server = { url, port, volume, name, dataDir: volumeDir(volume) };
  const ready = await get(server, '/ready');
  assert.equal(ready.status, 200, `ready: ${ready.text}`);
  assert.deepEqual(ready.body, { status: 'ready', database: 'ok', kv: 'ok', mail: 'ok', media: 'ok' });
  const hc = podman(['healthcheck', 'run', name], { check: false });
  assert.equal(hc.status, 0, `podman healthcheck run: ${hc.stdout}${hc.stderr}`);
  assert.equal(inspect(name, '{{.State.Health.Status}}'), 'healthy');
});

test('the server is PID 1 as uid 10001 and writes only to the volume', () => {
  const { name, dataDir } = server;
  assert.equal(podman(['exec', name, 'id', '-u']).stdout.trim(), String(UID));
  const status = podman(['exec', name, 'cat', '/proc/1/status']).stdout;
  assert.match(status, /^Name:\s+gatehouse$/m, 'PID 1 is gatehouse itself');
  assert.match(status, new RegExp(`^Uid:\\s+${UID}\\s+${UID}\\s+${UID}\\s+${UID}$`, 'm'));
  // the root filesystem is mounted read-only, and /tmp is no tmpfs: the server, which has
  // written its database and mail by now, can have written nothing but the volume
  const mounts = podman(['exec', name, 'cat', '/proc/1/mounts']).stdout.split('\n').map((l) => l.split(' '));
  const rootMount = mounts.find((m) => m[1] === '/');
  assert.ok(rootMount && rootMount[3].split(',').includes('ro'), `/ is mounted read-only: ${rootMount}`);
  assert.ok(!mounts.some((m) => m[1] === '/tmp' || m[1] === '/var/tmp'), 'no writable /tmp');
  const touch = podman(['exec', name, 'touch', '/tmp/x'], { check: false });
  assert.notEqual(touch.status, 0, 'nothing can be written outside the volume');
  assert.match(touch.stderr, /Read-only file system/);
  assert.equal(statSync(join(dataDir, 'gatehouse.db')).uid, UID, 'the database belongs to uid 10001');
});

test('gatehouse user create through podman exec makes an account that logs in through the port', async () => {
  const email = randomEmail('admin');
  const r = podman(['exec', '-i', server.name, 'gatehouse', 'user', 'create', '--email', email, '--superuser'], { input: `${PASSWORD}\n` });
  assert.match(r.stdout.trim(), /^[0-9a-f-]{36}$/, 'prints the new id');
  const cookie = await loginOk(server, { email, password: PASSWORD });
  const me = await currentUser(server, cookie);
  assert.equal(me.is_superuser, true);
  admin = { email, cookie };
});

test('register, confirm with the link from the mail file in the volume, log in, upload an avatar', async () => {
  user = await registerConfirmLogin(server);
  const mails = readdirSync(join(server.dataDir, 'mail')).filter((f) => f.endsWith('.eml'));
  assert.ok(mails.length >= 1, 'the mail file is in the volume');
  const up = await updateUser(server, user.cookie, { thumbnail: { bytes: png1x1(), filename: 'a.png', type: 'image/png' } });
  assert.equal(up.status, 200, `avatar: ${up.status} ${up.text}`);
  const thumb = new URL(up.body.thumbnail);
  const served = await get(server, thumb.pathname);
  assert.equal(served.status, 200, 'the avatar is served from the volume');
});

test('SIGTERM stops it at once with exit 0; a new container on the volume keeps accounts and sessions', async () => {
  const ms = stopCleanly(server.name);
  figure('stop_seconds', (ms / 1000).toFixed(2));
  podman(['rm', server.name]);
  containers.delete(server.name);
  const t0 = performance.now();
  const name = runContainer(`${RUN}-b`, server.volume, ['-p', `127.0.0.1:${server.port}:5000`, '-e', `GATEHOUSE_PUBLIC_URL=${server.url}`]);
  await firstHealthy(server.url, t0, name);
  server.name = name;
  assert.equal((await currentUser(server, user.cookie)).email, user.email, 'the session survived');
  assert.equal((await currentUser(server, admin.cookie)).email, admin.email);
  await loginOk(server, { email: admin.email, password: PASSWORD });
  stopCleanly(name);
});

test('on PostgreSQL and Redis of the host, over --network host', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  const redis = await startRedis();
  t.after(() => redis.stop());
  await pg.createDatabase('gatehouse_image');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const name = runContainer(`${RUN}-pg`, `${RUN}-pg-data`, ['--network', 'host',
    '-e', `GATEHOUSE_LISTEN=127.0.0.1:${port}`, '-e', `GATEHOUSE_PUBLIC_URL=${url}`,
    '-e', `DATABASE_URL=${pg.url('gatehouse_image')}`, '-e', `REDIS_URL=${redis.url(0)}`]);
  await firstHealthy(url, t0, name);
  const pgServer = { url, dataDir: volumeDir(`${RUN}-pg-data`) };
  const ready = await get(pgServer, '/ready');
  assert.equal(ready.status, 200, `ready: ${ready.text}`);
  assert.equal(ready.body.database, 'ok');
  assert.equal(ready.body.kv, 'ok');
  const hc = podman(['healthcheck', 'run', name], { check: false });
  assert.equal(hc.status, 0, `podman healthcheck run: ${hc.stdout}${hc.stderr}`);

  const { email } = await registerConfirmLogin(pgServer);
  const psql = execFileSync(join(PG_BIN, 'psql'), ['-X', '-At', '-d', pg.url('gatehouse_image'), '-c',
    `SELECT is_active FROM users WHERE email = '${email}'`], { encoding: 'utf8' });
  assert.equal(psql.trim(), 't', 'the account is in PostgreSQL');
  const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), '-n', '0', '--scan', '--pattern', 'gh:s:*'], { encoding: 'utf8' });
  assert.ok(keys.trim().split('\n').filter(Boolean).length >= 1, 'the session is in Redis');
  assert.ok(!existsSync(join(pgServer.dataDir, 'gatehouse.db')), 'no SQLite file next to PostgreSQL');
  await waitUntil(() => existsSync(join(pgServer.dataDir, 'mail')), { what: 'the mail directory in the volume' });
  stopCleanly(name);
});
