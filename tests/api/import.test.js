// gatehouse import --source rust-auth|django --from URL [--dry-run] [--keep-staff]: accounts of
// another system's database, with hashes made by the real producers (Django, argon2-cffi,
// passlib), imported into the gatehouse of this suite's backend. The sources are a rust-auth
// database on PostgreSQL, Django on SQLite (integer ids, and 32-hex uuid ids) and Django on
// PostgreSQL (uuid ids), each with about 1000 accounts and the edge cases of
// tests/support/import_sources.js. The report is compared exactly with what the source holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  GATEHOUSE_BIN, startServer, cleanup, login, loginOk, makeDataDir, sql, sqlQuote, PASSWORD,
} from '../support/server.js';
import { startPostgres } from '../support/postgres.js';
import {
  makeSource, hashSource, expected, writeSqliteSource, writePostgresSource,
} from '../support/import_sources.js';

let server;
let pg;
const sources = {};
let dbCounter = 0;

async function pgSource(src) {
  const name = `src_${process.pid}_${++dbCounter}`;
  await pg.createDatabase(name);
  writePostgresSource(src, pg.url(name));
  return pg.url(name);
}

before(async () => {
  server = await startServer();
  pg = await startPostgres();
  const dir = makeDataDir();
  const djangoSqlite = hashSource(makeSource('django', { n: 1000, ids: 'int' }));
  const djangoHex = hashSource(makeSource('django', { n: 60, ids: 'hex' }));
  const djangoPg = hashSource(makeSource('django', { n: 1000, ids: 'uuid' }));
  const rustAuth = hashSource(makeSource('rust-auth', { n: 1000 }));
  const rustAuthDry = hashSource(makeSource('rust-auth', { n: 200 }));
  sources.djangoSqlite = { src: djangoSqlite, url: `sqlite://${writeSqliteSource(djangoSqlite, dir, 'django.sqlite3')}` };
  sources.djangoHex = { src: djangoHex, url: writeSqliteSource(djangoHex, dir, 'django-hex.sqlite3') };
  sources.djangoPg = { src: djangoPg, url: await pgSource(djangoPg) };
  sources.rustAuth = { src: rustAuth, url: await pgSource(rustAuth) };
  sources.rustAuthDry = { src: rustAuthDry, url: await pgSource(rustAuthDry) };
  for (const { src } of Object.values(sources)) createUser(src.existing);
});
after(async () => { await cleanup(); if (pg) await pg.stop(); });

function cli(args, input = '') {
  return spawnSync(GATEHOUSE_BIN, args, { env: server.env, cwd: server.dataDir, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function createUser(email) {
  const r = cli(['user', 'create', '--email', email], `${PASSWORD}\n`);
  assert.equal(r.status, 0, r.stderr);
}

/** Runs the import; asserts exit 0 and a JSON report on stdout; returns the report. */
function runImport(kind, url, ...flags) {
  const r = cli(['import', '--source', kind, '--from', url, ...flags]);
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.ok(!/\r/.test(r.stderr), 'no progress line when standard error is not a terminal');
  return JSON.parse(r.stdout);
}

/** The report's counts against what the source holds. */
function assertReport(report, want, { kind, dryRun = false, keepStaff = false } = {}) {
  assert.equal(report.source, kind);
  assert.equal(report.dry_run, dryRun);
  assert.equal(report.keep_staff, keepStaff);
  assert.equal(report.read, want.read);
  assert.equal(report.imported, want.imported);
  assert.deepEqual(report.skipped_reasons, want.skipped_reasons);
  assert.equal(report.skipped, Object.values(want.skipped_reasons).reduce((a, b) => a + b, 0));
  assert.deepEqual(report.hash_schemes, want.hash_schemes);
  assert.equal(report.resets_needed.total, want.resets_total);
  assert.deepEqual(report.resets_needed.reasons, want.resets);
  assert.deepEqual(report.fields_dropped, want.fields_dropped);
  assert.deepEqual(report.staff, want.staff);
  assert.deepEqual(report.ids, want.ids);
  assert.equal(report.skipped_rows.length, report.skipped);
  assert.ok(!JSON.stringify(report).includes('$argon2') && !JSON.stringify(report).includes('pbkdf2_sha256$'), 'no hash in the report');
}

const userRow = (email) => sql(server.dataDir, `SELECT u.id, u.email, u.password_hash, u.first_name, u.is_active, u.is_staff, u.is_superuser, u.thumbnail, u.date_joined, p.phone_number, p.birth_date, p.github_link FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE u.email = ${sqlQuote(email.trim().toLowerCase())}`)[0];

/** Logs in one active account of every scheme with its original password; checks the upgrade. */
async function loginEveryScheme(want) {
  const seen = new Set();
  for (const u of want.importedUsers) {
    if (!u.is_active || u.reset || seen.has(u.hash)) continue; // each hash of the pool once
    seen.add(u.hash);
    const before = userRow(u.email);
    assert.equal(before.password_hash, u.hash, 'the hash is stored as it was');
    await loginOk(server, { email: u.email, password: u.password });
    assert.match(userRow(u.email).password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, `${u.scheme} upgraded after the login`);
    await loginOk(server, { email: u.email, password: u.password });
  }
  assert.ok(seen.size >= 3, `several hashes logged in (${seen.size})`);
}

test('django on SQLite (integer ids): the report is exact, every scheme logs in and is upgraded, a second run is a no-op', async () => {
  const { src, url } = sources.djangoSqlite;
  const want = expected(src);
  const report = runImport('django', url);
  assertReport(report, want, { kind: 'django' });
  assert.match(report.from, /^django:sqlite:\/.*django\.sqlite3$/);
  // integer ids got new UUIDs, remembered in the map
  const mapped = sql(server.dataDir, `SELECT count(*) AS n FROM import_id_map WHERE source = ${sqlQuote(report.from)}`)[0].n;
  assert.equal(mapped, want.imported);
  const one = want.importedUsers[0];
  const [m] = sql(server.dataDir, `SELECT user_id FROM import_id_map WHERE source = ${sqlQuote(report.from)} AND old_id = ${sqlQuote(one.id)}`);
  assert.equal(m.user_id, userRow(one.email).id);
  // what was kept: flags, names, profile, time joined; staff dropped; refused fields dropped
  const row = userRow(one.email);
  assert.equal(row.first_name, one.first_name);
  assert.equal(row.is_active, one.is_active ? 1 : 0);
  assert.equal(Number(row.date_joined), one.date_joined);
  assert.equal(row.phone_number, one.profile.phone);
  assert.equal(row.birth_date, one.profile.birth);
  assert.equal(row.github_link, one.profile.github);
  const staff = src.users[2];
  assert.deepEqual([userRow(staff.email).is_staff, userRow(staff.email).is_superuser], [0, 0]);
  const refused = src.users[6];
  const r6 = userRow(refused.email);
  assert.deepEqual([r6.phone_number, r6.birth_date, r6.github_link], [null, null, null]);
  assert.equal(userRow(src.users[5].email).first_name, '');
  // shared addresses are skipped, never merged
  assert.equal(userRow(`dup1-${src.tag}@example.com`), undefined);
  // the account gatehouse had keeps its own password
  await loginOk(server, { email: src.existing, password: PASSWORD });
  // logins with the original passwords, upgraded to Argon2id after
  await loginEveryScheme(want);
  // passwords that need a reset refuse even the right password
  for (const u of want.importedUsers.filter((x) => x.reset)) {
    assert.equal((await login(server, { email: u.email, password: u.password })).r.status, 401, u.reset);
  }
  // the second run changes nothing and says why
  const usersBefore = sql(server.dataDir, 'SELECT count(*) AS n FROM users')[0].n;
  const again = runImport('django', url);
  assertReport(again, expected(src, { second: true }), { kind: 'django' });
  assert.equal(sql(server.dataDir, 'SELECT count(*) AS n FROM users')[0].n, usersBefore);
  // an audit row for the real run
  assert.ok(sql(server.dataDir, "SELECT count(*) AS n FROM audit_log WHERE event = 'import'")[0].n >= 1);
});

test('django on SQLite with Django\'s 32-hex-digit uuid ids keeps them as UUIDs', async () => {
  const { src, url } = sources.djangoHex;
  const want = expected(src);
  const report = runImport('django', url);
  assertReport(report, want, { kind: 'django' });
  const u = want.importedUsers[0];
  const id = u.id.toLowerCase();
  assert.equal(userRow(u.email).id, `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`);
});

test('django on PostgreSQL (uuid ids): ids kept, the report is exact, logins work', async () => {
  const { src, url } = sources.djangoPg;
  const want = expected(src);
  const report = runImport('django', url);
  assertReport(report, want, { kind: 'django' });
  assert.match(report.from, /^django:postgres:\/\/127\.0\.0\.1:\d+\/src_/);
  for (const u of want.importedUsers.slice(0, 20)) assert.equal(userRow(u.email).id, u.id);
  await loginEveryScheme(want);
  assertReport(runImport('django', url), expected(src, { second: true }), { kind: 'django' });
});

test('rust-auth on PostgreSQL with --keep-staff: uuids and staff kept, thumbnails dropped, logins work', async () => {
  const { src, url } = sources.rustAuth;
  const want = expected(src, { keepStaff: true });
  const report = runImport('rust-auth', url, '--keep-staff');
  assertReport(report, want, { kind: 'rust-auth', keepStaff: true });
  for (const u of want.importedUsers.slice(0, 20)) assert.equal(userRow(u.email).id, u.id);
  const staff = userRow(src.users[2].email);
  assert.deepEqual([staff.is_staff, staff.is_superuser], [1, 1]);
  assert.equal(userRow(src.users[3].email).thumbnail, null, 'a thumbnail URL of the old storage is dropped');
  await loginEveryScheme(want);
});

test('--dry-run reports exactly what an import would do and writes nothing', async () => {
  const { src, url } = sources.rustAuthDry;
  const count = (t) => sql(server.dataDir, `SELECT count(*) AS n FROM ${t}`)[0].n;
  const before = { users: count('users'), profiles: count('user_profiles'), map: count('import_id_map'), audit: count('audit_log') };
  const dry = runImport('rust-auth', url, '--dry-run');
  assertReport(dry, expected(src), { kind: 'rust-auth', dryRun: true });
  assert.deepEqual({ users: count('users'), profiles: count('user_profiles'), map: count('import_id_map'), audit: count('audit_log') }, before);
  const real = runImport('rust-auth', url);
  const strip = (r) => ({ ...r, dry_run: null, seconds: null, skipped_rows: r.skipped_rows.map((x) => x.reason), resets_needed: { ...r.resets_needed, rows: r.resets_needed.rows.length }, dropped_fields: r.dropped_fields.length });
  assert.deepEqual(strip(real), strip(dry));
  assert.equal(count('users'), before.users + real.imported);
});

test('bad input gets a clear message and a non-zero exit, and writes nothing', () => {
  const users = sql(server.dataDir, 'SELECT count(*) AS n FROM users')[0].n;
  const other = join(makeDataDir(), 'other.sqlite3');
  execFileSync('sqlite3', [other, 'CREATE TABLE notes (id integer PRIMARY KEY, text text);']);
  const cases = [
    [['import', '--source', 'wordpress', '--from', 'postgres://127.0.0.1/x'], 2, /unknown source 'wordpress' \(rust-auth, django\)/],
    [['import', '--source', 'django'], 2, /import needs --source rust-auth\|django and --from URL/],
    [['import', '--source', 'django', '--from', 'postgres://127.0.0.1:1/nothing'], 1, /cannot connect to the source database/],
    [['import', '--source', 'django', '--from', 'postgres://[::1/x'], 2, /--from is not a valid PostgreSQL URL/],
    [['import', '--source', 'django', '--from', 'mysql://127.0.0.1/x'], 2, /--from must be a postgres:\/\/ URL, a sqlite:\/\/\/path URL or a file path/],
    [['import', '--source', 'django', '--from', 'sqlite:///no/such/file.db'], 1, /cannot open the source database \/no\/such\/file\.db/],
    [['import', '--source', 'rust-auth', '--from', sources.djangoHex.url], 2, /a rust-auth source is read from PostgreSQL/],
    [['import', '--source', 'rust-auth', '--from', sources.djangoPg.url], 1, /the source database refused a query: ERROR: .*users/],
    [['import', '--source', 'django', '--from', `sqlite://${other}`], 1, /has no Django users_user and user_profile tables/],
    [['import', '--source', 'django', '--from', sources.djangoPg.url, '--bogus'], 2, /unknown or incomplete option '--bogus'/],
  ];
  for (const [args, status, message] of cases) {
    const r = cli(args);
    assert.equal(r.status, status, `${args.join(' ')}: exit ${r.status} ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', 'no report');
  }
  assert.equal(sql(server.dataDir, 'SELECT count(*) AS n FROM users')[0].n, users);
});

test('on a terminal a progress line goes to standard error, the report still to standard output', () => {
  // script(1) runs the command on a terminal and copies what the terminal shows to its output
  const { src, url } = sources.djangoHex;
  const out = join(server.dataDir, 'tty-report.json');
  const r = spawnSync('script', ['-qec', `${GATEHOUSE_BIN} import --source django --from ${url} --dry-run >${out}`, '/dev/null'], { env: server.env, cwd: server.dataDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, new RegExp(`gatehouse import: ${src.users.length} of ${src.users.length} rows read, 0 imported`));
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).read, src.users.length);
});
