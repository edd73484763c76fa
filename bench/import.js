#!/usr/bin/env node
// How long `gatehouse import` takes for IMPORT_USERS accounts (default 10,000), from a fresh
// source into a fresh gatehouse: Django on SQLite into SQLite, Django on PostgreSQL and rust-auth
// on PostgreSQL into PostgreSQL (one throwaway cluster started as the test harness starts it,
// fsync off, for sources and targets).
// The sources come from tests/support/import_sources.js (hashes made by Django, argon2-cffi and
// passlib, about 2% edge cases). Each row of the output: the pair, the rows read and imported,
// the wall time of the import command (median of IMPORT_RUNS, default 3, each on a fresh
// target), rows per second, and the time of the second, idempotent run.
//
//   node bench/import.js            (needs build/gatehouse, or GATEHOUSE_BIN)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../tests/support/postgres.js';
import { makeSource, hashSource, writeSqliteSource, writePostgresSource } from '../tests/support/import_sources.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = resolve(ROOT, process.env.GATEHOUSE_BIN || 'build/gatehouse');
const USERS = Number(process.env.IMPORT_USERS || 10000);
const RUNS = Number(process.env.IMPORT_RUNS || 3);

const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-import-bench-'));
const pg = await startPostgres();
let dbs = 0;
const fresh = async () => { const n = `b${++dbs}`; await pg.createDatabase(n); return pg.url(n); };

function runImport(kind, from, databaseUrl) {
  const dataDir = mkdtempSync(join(tmp, 'data-'));
  const env = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, DATABASE_URL: databaseUrl || `sqlite:${dataDir}/gatehouse.db`, GATEHOUSE_LOG_FORMAT: 'json' };
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BIN, ['import', '--source', kind, '--from', from], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  const t1 = process.hrtime.bigint();
  const again = spawnSync(BIN, ['import', '--source', kind, '--from', from], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const againMs = Number(process.hrtime.bigint() - t1) / 1e6;
  if (again.status !== 0 || JSON.parse(again.stdout).imported !== 0) throw new Error('second run not a no-op');
  return { ms, againMs, report: JSON.parse(r.stdout) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
try {
  const pairs = [
    ['django (SQLite) → SQLite', 'django', async (s) => `sqlite://${writeSqliteSource(s, mkdtempSync(join(tmp, 'src-')))}`, async () => null],
    ['django (PostgreSQL) → PostgreSQL', 'django', async (s) => { const u = await fresh(); writePostgresSource(s, u); return u; }, fresh],
    ['rust-auth (PostgreSQL) → PostgreSQL', 'rust-auth', async (s) => { const u = await fresh(); writePostgresSource(s, u); return u; }, fresh],
  ];
  for (const [label, kind, makeFrom, makeTarget] of pairs) {
    const src = hashSource(makeSource(kind, { n: USERS, ids: kind === 'django' && label.includes('SQLite') ? 'int' : 'uuid' }));
    const from = await makeFrom(src);
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(runImport(kind, from, await makeTarget()));
    const ms = median(runs.map((r) => r.ms));
    const again = median(runs.map((r) => r.againMs));
    const { read, imported } = runs[0].report;
    rows.push({ label, read, imported, ms, again });
    console.error(`${label}: ${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms`);
  }
} finally {
  await pg.stop();
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`gatehouse import of ${USERS} accounts, median of ${RUNS} runs, each into a fresh database`);
console.log('pair'.padEnd(38) + 'read'.padStart(7) + 'imported'.padStart(10) + 'seconds'.padStart(9) + 'rows/s'.padStart(9) + 'second run s'.padStart(14));
for (const r of rows) {
  console.log(r.label.padEnd(38) + String(r.read).padStart(7) + String(r.imported).padStart(10) + (r.ms / 1000).toFixed(2).padStart(9) + String(Math.round(r.read / (r.ms / 1000))).padStart(9) + (r.again / 1000).toFixed(2).padStart(14));
}
