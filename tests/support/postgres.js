// A throwaway PostgreSQL 15 cluster on loopback for the tests: initdb into a temp dir as the
// `postgres` OS user (initdb refuses to run as root), trust authentication, fsync off, the
// socket in the temp dir. Stopped and removed by stop(), and also when the process exits.
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const execFileP = promisify(execFile);

export const PG_BIN = process.env.GATEHOUSE_TEST_PG_BIN || '/usr/lib/postgresql/15/bin';
const START_TIMEOUT_MS = 30_000;

const clusters = new Set(); // started and not yet stopped

/** Runs a PostgreSQL program as the `postgres` user when we are root, else as ourselves. */
function asPostgres(program, args, opts = {}) {
  const bin = join(PG_BIN, program);
  const [cmd, argv] = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Database names the tests create are plain identifiers; anything else is a bug. */
function checkName(name) {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
}

/** CREATE DATABASE name on the cluster of adminUrl (a URL of a database on it). */
export async function createDatabaseAt(adminUrl, name) {
  checkName(name);
  await execFileP(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', adminUrl, '-c', `CREATE DATABASE "${name}"`]);
}

/** adminUrl with its database replaced by name. */
export function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function stopSync(c) {
  if (!clusters.has(c)) return;
  clusters.delete(c);
  try {
    asPostgres('pg_ctl', ['stop', '-D', c.dataDir, '-m', c.mode || 'fast', '-w', '-t', '30']);
  } catch {
    try { asPostgres('pg_ctl', ['stop', '-D', c.dataDir, '-m', 'immediate', '-w']); } catch {}
  }
  try { rmSync(c.dir, { recursive: true, force: true }); } catch {}
}

/**
 * Start a cluster. Resolves with {port, adminUrl, url(dbName), createDatabase(name), stop()}.
 */
export async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  const c = { dir, dataDir: join(dir, 'data') };
  clusters.add(c);
  try {
    if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    asPostgres('initdb', ['-D', c.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let lastErr;
    for (let attempt = 0; attempt < 5; attempt++) {
      c.port = await freePort();
      const opts = `-p ${c.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`;
      try {
        asPostgres('pg_ctl', ['start', '-D', c.dataDir, '-l', join(dir, 'postgres.log'), '-w', '-t', String(START_TIMEOUT_MS / 1000), '-o', opts]);
        lastErr = null;
        break;
      } catch (err) {
        lastErr = err; // most likely the port was taken meanwhile: try another
      }
    }
    if (lastErr) throw lastErr;
    // pg_ctl -w waited for the server; make sure TCP answers too.
    asPostgres('pg_isready', ['-h', '127.0.0.1', '-p', String(c.port), '-t', '10']);
  } catch (err) {
    let log = '';
    try { log = readFileSync(join(dir, 'postgres.log'), 'utf8'); } catch {}
    stopSync(c);
    err.message += `\n--- postgres log ---\n${log}\n${err.stderr || ''}`;
    throw err;
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${c.port}/postgres`;
  return {
    port: c.port,
    dir,
    adminUrl,
    url: (dbName) => databaseUrl(adminUrl, dbName),
    createDatabase: (name) => createDatabaseAt(adminUrl, name),
    /** pg_ctl stop -m fast and remove the temp dir. */
    async stop() { stopSync(c); },
    get running() { return clusters.has(c) && existsSync(c.dataDir); },
  };
}

process.on('exit', () => {
  for (const c of [...clusters]) { c.mode = 'immediate'; stopSync(c); }
});
