// The command line: --help, --version, routes, migrate, and `user create`, which makes an
// active account without a confirmation mail (for the first administrator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  GATEHOUSE_BIN, startServer, cleanup, login, randomEmail, PASSWORD, sql, sqlQuote,
} from '../support/server.js';

let server;
before(async () => { server = await startServer(); });
after(cleanup);

/** Runs the binary with the server's storage settings; input goes to standard input. */
function cli(args, input = '') {
  return spawnSync(GATEHOUSE_BIN, args, { env: server.env, cwd: server.dataDir, input, encoding: 'utf8' });
}

test('--help lists the commands and --version prints the version', () => {
  const help = cli(['--help']);
  assert.equal(help.status, 0);
  for (const word of ['serve', 'migrate', 'routes', 'user create']) assert.ok(help.stdout.includes(word), word);
  const version = cli(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^gatehouse \d+\.\d+\.\d+/);
});

test('an unknown argument exits 2 with a message', () => {
  const r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument 'frobnicate'/);
});

test('migrate on an up-to-date database succeeds and changes nothing', () => {
  const before = sql(server.dataDir, 'SELECT count(*) AS n FROM schema_migrations')[0].n;
  const r = cli(['migrate']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sql(server.dataDir, 'SELECT count(*) AS n FROM schema_migrations')[0].n, before);
});

test('user create makes an active superuser who can log in at once', async () => {
  const email = randomEmail('admin');
  const r = cli(['user', 'create', '--email', email.toUpperCase(), '--first-name', 'Grace', '--last-name', 'Hopper', '--superuser'], `${PASSWORD}\n`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const { r: res, user } = await login(server, { email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(user.id, r.stdout.trim());
  assert.equal(user.is_active, true);
  assert.equal(user.is_staff, true);
  assert.equal(user.is_superuser, true);
  assert.equal(user.first_name, 'Grace');
  const [row] = sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`);
  assert.equal(row.n, 0, 'no confirmation mail');
  const [audit] = sql(server.dataDir, `SELECT event FROM audit_log WHERE email = ${sqlQuote(email)}`);
  assert.equal(audit.event, 'user_created');
});

test('user create without --superuser makes a plain active account', async () => {
  const email = randomEmail('plain');
  const r = cli(['user', 'create', '--email', email], `${PASSWORD}\n`);
  assert.equal(r.status, 0, r.stderr);
  const { user } = await login(server, { email, password: PASSWORD });
  assert.equal(user.is_staff, false);
  assert.equal(user.is_superuser, false);
});

test('user create refuses a weak password, a taken email, a bad email and a missing --email', () => {
  const email = randomEmail('dup');
  assert.equal(cli(['user', 'create', '--email', email], 'short\n').status, 1);
  assert.match(cli(['user', 'create', '--email', email], 'password1234\n').stderr, /too (short|common)/);
  assert.equal(cli(['user', 'create', '--email', email], `${PASSWORD}\n`).status, 0);
  const dup = cli(['user', 'create', '--email', email], `${PASSWORD}\n`);
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /already exists/);
  assert.match(cli(['user', 'create', '--email', 'not-an-email'], `${PASSWORD}\n`).stderr, /not valid/);
  const missing = cli(['user', 'create'], `${PASSWORD}\n`);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /needs --email/);
  const nothing = cli(['user', 'create', '--email', randomEmail()], '');
  assert.equal(nothing.status, 1, 'no password on standard input');
});
