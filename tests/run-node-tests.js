#!/usr/bin/env node
// Runs the Node test suites: the API suite (tests/api/) once per storage backend, then the
// cluster and browser suites (GATEHOUSE_TEST_EXTRA, default "cluster,browser"). Backends:
//   sqlite          the default, nothing to start
//   postgres        DATABASE_URL on a throwaway PostgreSQL cluster (a database per server)
//   postgres+redis  the same plus REDIS_URL on a throwaway redis-server (a logical db per server)
// GATEHOUSE_TEST_BACKENDS picks them (comma-separated; default all three). The services are
// started once per backend run and passed to the suite through the environment; see
// tests/support/server.js. The last line is the total, "N passed, N failed".
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './support/postgres.js';
import { startRedis } from './support/redis.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KNOWN = ['sqlite', 'postgres', 'postgres+redis'];
const backends = (process.env.GATEHOUSE_TEST_BACKENDS || KNOWN.join(','))
  .split(',').map((s) => s.trim()).filter(Boolean);
for (const b of backends) {
  if (!KNOWN.includes(b)) {
    console.error(`unknown backend "${b}" in GATEHOUSE_TEST_BACKENDS (known: ${KNOWN.join(', ')})`);
    process.exit(2);
  }
}

let services = []; // running services of the current backend, stopped in reverse order
let child = null;

async function stopServices() {
  const list = services.reverse();
  services = [];
  for (const s of list) {
    try { await s.stop(); } catch (err) { console.error(`stopping a test service: ${err.message}`); }
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (child) { try { child.kill(sig); } catch {} }
    await stopServices();
    process.exit(130);
  });
}

/** Starts what the backend needs; returns the environment for the suite. */
async function prepare(backend) {
  const env = { GATEHOUSE_TEST_BACKEND: backend };
  if (backend.startsWith('postgres')) {
    const pg = await startPostgres();
    services.push(pg);
    env.GATEHOUSE_TEST_PG_ADMIN_URL = pg.adminUrl;
  }
  if (backend.endsWith('+redis')) {
    const redis = await startRedis();
    services.push(redis);
    env.GATEHOUSE_TEST_REDIS_PORT = String(redis.port);
  }
  return env;
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the suite; resolves with {code, pass, fail, summarised}. */
function runSuite(env, dir = 'tests/api/') {
  return new Promise((res) => {
    const args = ['--test', '--test-reporter=spec', dir];
    child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code, signal) => {
      child = null;
      const text = stripAnsi(out);
      const count = (name) => {
        const m = [...text.matchAll(new RegExp(`^\\s*ℹ ${name} (\\d+)\\s*$`, 'gm'))];
        return m.length ? Number(m[m.length - 1][1]) : null;
      };
      const pass = count('pass');
      const fail = count('fail');
      res({ code: code ?? 1, signal, pass: pass ?? 0, fail: fail ?? 0, summarised: pass !== null && fail !== null });
    });
  });
}

let totalPass = 0;
let totalFail = 0;
let anyFailed = false;
const lines = [];

// The unit tests ran before (scripts/run-unit-tests.sh); their "N passed, N failed" line joins
// the total so the last line counts everything.
if (process.env.GATEHOUSE_UNIT_SUMMARY) {
  const text = readFileSync(process.env.GATEHOUSE_UNIT_SUMMARY, 'utf8');
  const m = [...text.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  if (!m) {
    console.error(`no unit test summary in ${process.env.GATEHOUSE_UNIT_SUMMARY}`);
    process.exit(2);
  }
  totalPass += Number(m[1]);
  totalFail += Number(m[2]);
  if (Number(m[2]) > 0) anyFailed = true;
  lines.push(`unit: ${m[1]} passed, ${m[2]} failed`);
}
for (const backend of backends) {
  console.log(`\n=============== API tests: ${backend} ===============\n`);
  let result;
  try {
    const env = await prepare(backend);
    result = await runSuite(env);
  } catch (err) {
    console.error(`could not run the ${backend} suite: ${err.stack || err.message}`);
    result = { code: 1, pass: 0, fail: 0, summarised: false };
  } finally {
    await stopServices();
  }
  // A run that failed without reporting a failed test (a crash, a setup error) still counts.
  if (result.code !== 0 && result.fail === 0) result.fail = 1;
  if (result.code !== 0 || result.fail > 0) anyFailed = true;
  totalPass += result.pass;
  totalFail += result.fail;
  lines.push(`${backend}: ${result.pass} passed, ${result.fail} failed${result.summarised ? '' : ' (no summary: the run did not finish)'}`);
}

// The suites that start their own services: two instances on PostgreSQL + Redis with outages
// (tests/cluster/), and the built-in web UI in Chromium (tests/e2e/).
const EXTRA = { cluster: 'tests/cluster/', browser: 'tests/e2e/' };
const extras = (process.env.GATEHOUSE_TEST_EXTRA ?? Object.keys(EXTRA).join(','))
  .split(',').map((s) => s.trim()).filter(Boolean);
for (const name of extras) {
  if (!EXTRA[name]) {
    console.error(`unknown suite "${name}" in GATEHOUSE_TEST_EXTRA (known: ${Object.keys(EXTRA).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=============== ${name} tests ===============\n`);
  const result = await runSuite({}, EXTRA[name]);
  if (result.code !== 0 && result.fail === 0) result.fail = 1;
  if (result.code !== 0 || result.fail > 0) anyFailed = true;
  totalPass += result.pass;
  totalFail += result.fail;
  lines.push(`${name}: ${result.pass} passed, ${result.fail} failed${result.summarised ? '' : ' (no summary: the run did not finish)'}`);
}

console.log('\n=============== summary ===============');
for (const l of lines) console.log(l);
console.log(`${totalPass} passed, ${totalFail} failed`);
process.exit(anyFailed ? 1 : 0);
