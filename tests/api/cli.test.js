// The command line: --help, --version, routes, migrate, config (the effective settings, secrets
// masked), `user create`, which makes an active account without a confirmation mail (for
// the first administrator), and `healthcheck`, the container image's health check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFile } from 'node:child_process';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  for (const word of ['serve', 'migrate', 'routes', 'config', 'user create', 'healthcheck']) assert.ok(help.stdout.includes(word), word);
  const version = cli(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^gatehouse \d+\.\d+\.\d+/);
});

test('an unknown argument exits 2 with a message', () => {
  const r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument 'frobnicate'/);
});

/** Runs the binary with no settings in its environment but the given ones. */
function withSettings(args, settings = {}) {
  const env = Object.fromEntries(Object.entries(process.env)
    .filter(([name]) => !/^(GATEHOUSE_|DATABASE_URL$|REDIS_URL$)/.test(name)));
  return spawnSync(GATEHOUSE_BIN, args, { env: { ...env, ...settings }, cwd: server.dataDir, encoding: 'utf8' });
}

/** NAME → value of the `NAME=value` lines `gatehouse config` printed, in their order. */
function printedSettings(stdout) {
  const settings = new Map();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `a NAME=value line: ${JSON.stringify(line)}`);
    assert.ok(!settings.has(m[1]), `${m[1]} printed twice`);
    settings.set(m[1], m[2]);
  }
  return settings;
}

test('config prints every setting once, with the defaults that follow from others filled in', () => {
  const r = withSettings(['config']);
  assert.equal(r.status, 0, r.stderr);
  const printed = printedSettings(r.stdout);
  // a provider's settings (GATEHOUSE_OIDC_<NAME>_…) are printed only for configured providers
  const listed = withSettings(['config', '--list']).stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])
    .filter((name) => !name.includes('<NAME>'));
  assert.deepEqual([...printed.keys()], listed, 'the settings of `config --list`, in its order');
  assert.equal(printed.get('GATEHOUSE_ENV'), 'development');
  assert.equal(printed.get('GATEHOUSE_LISTEN'), '127.0.0.1:5000');
  assert.equal(printed.get('GATEHOUSE_PUBLIC_URL'), 'http://127.0.0.1:5000');
  assert.equal(printed.get('GATEHOUSE_FRONTEND_URL'), 'http://127.0.0.1:5000');
  assert.equal(printed.get('DATABASE_URL'), 'sqlite:./data/gatehouse.db');
  assert.equal(printed.get('REDIS_URL'), '');
  assert.equal(printed.get('GATEHOUSE_MAIL_URL'), 'file:./data/mail');
  assert.equal(printed.get('GATEHOUSE_MEDIA_URL'), 'file:./data/media');
  assert.equal(printed.get('GATEHOUSE_COOKIE_SECURE'), 'auto');
  assert.equal(printed.get('GATEHOUSE_MAX_CONNECTIONS_PER_IP'), '128');
  assert.equal(printed.get('GATEHOUSE_BODY_MEMORY_MIB'), '64');
  assert.equal(printed.get('GATEHOUSE_LOG_FORMAT'), 'auto');
});

test('config masks the S3 secret key and the passwords in database, Redis and mail URLs', () => {
  const secrets = ['pg-Secret-1', 'pg-Secret-2', 'redis-Secret-3', 'mail-Secret-4', 's3-Secret-5'];
  const r = withSettings(['config'], {
    DATABASE_URL: `postgres://gatehouse:${secrets[0]}@db.internal:5432/gatehouse?sslmode=require&password=${secrets[1]}`,
    REDIS_URL: `redis://:${secrets[2]}@127.0.0.1:6379/0`,
    GATEHOUSE_MAIL_URL: `smtp://mailer:${secrets[3]}@smtp.example.com:587`,
    GATEHOUSE_MEDIA_URL: 's3://avatars',
    GATEHOUSE_S3_ENDPOINT: 'https://s3.example.com/',
    GATEHOUSE_S3_ACCESS_KEY: 'AKIAEXAMPLE',
    GATEHOUSE_S3_SECRET_KEY: secrets[4],
  });
  assert.equal(r.status, 0, r.stderr);
  for (const secret of secrets) assert.ok(!r.stdout.includes(secret), `${secret} is not printed`);
  const printed = printedSettings(r.stdout);
  assert.equal(printed.get('DATABASE_URL'),
    'postgres://gatehouse:********@db.internal:5432/gatehouse?sslmode=require&password=********');
  assert.equal(printed.get('REDIS_URL'), 'redis://:********@127.0.0.1:6379/0');
  assert.equal(printed.get('GATEHOUSE_MAIL_URL'), 'smtp://mailer:********@smtp.example.com:587');
  assert.equal(printed.get('GATEHOUSE_S3_SECRET_KEY'), '********');
  assert.equal(printed.get('GATEHOUSE_S3_ACCESS_KEY'), 'AKIAEXAMPLE', 'the key id is not a secret');
  assert.equal(printed.get('GATEHOUSE_S3_ENDPOINT'), 'https://s3.example.com');
  assert.equal(printed.get('GATEHOUSE_S3_PUBLIC_URL'), 'https://s3.example.com/avatars');
});

test('config reads --config FILE under the environment, and a refused setting exits 1 naming it', () => {
  const file = join(server.dataDir, 'settings.env');
  writeFileSync(file, 'GATEHOUSE_PUBLIC_URL=https://auth.example.com/\nGATEHOUSE_SESSION_TTL=600\n');
  const r = withSettings(['--config', file, 'config'], { GATEHOUSE_SESSION_TTL: '900' });
  assert.equal(r.status, 0, r.stderr);
  const printed = printedSettings(r.stdout);
  assert.equal(printed.get('GATEHOUSE_PUBLIC_URL'), 'https://auth.example.com');
  assert.equal(printed.get('GATEHOUSE_FRONTEND_URL'), 'https://auth.example.com');
  assert.equal(printed.get('GATEHOUSE_SESSION_TTL'), '900', 'the environment wins');
  const refused = withSettings(['config'], { GATEHOUSE_SESSION_TTL: '5' });
  assert.equal(refused.status, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /GATEHOUSE_SESSION_TTL must be a whole number from 60 to 31536000/);
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

/** Runs `gatehouse healthcheck` with GATEHOUSE_LISTEN=listen, without blocking this process
 * (a server of the test itself may have to answer). Resolves with {status, stdout, stderr}. */
function healthcheck(listen) {
  return new Promise((resolve) => {
    execFile(GATEHOUSE_BIN, ['healthcheck'], { env: { ...server.env, GATEHOUSE_LISTEN: listen, http_proxy: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' }, cwd: server.dataDir, timeout: 15000 },
      (err, stdout, stderr) => resolve({ status: err ? err.code : 0, stdout, stderr }));
  });
}

/** A loopback HTTP server answering every request with `status`; resolves with it listening. */
function answering(status) {
  const s = http.createServer((req, res) => { res.writeHead(status); res.end('{}'); });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

test('healthcheck asks the server on loopback for /health-check/ and exits 0 on 200, past any proxy', async () => {
  // 0.0.0.0 (every address, as in the container image) is asked on 127.0.0.1
  const r = await healthcheck(`0.0.0.0:${server.port}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `http://127.0.0.1:${server.port}/health-check/ answered 200\n`);
  assert.equal((await healthcheck(`127.0.0.1:${server.port}`)).status, 0);
});

test('healthcheck exits 1 naming the cause when nothing listens, the answer is not 200 or no port is set', async () => {
  const other = await answering(503);
  const { port } = other.address();
  try {
    const bad = await healthcheck(`127.0.0.1:${port}`);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`healthcheck: http://127\\.0\\.0\\.1:${port}/health-check/ answered 503`));
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
  const closed = await healthcheck(`127.0.0.1:${port}`);
  assert.equal(closed.status, 1);
  assert.match(closed.stderr, /healthcheck: .*(connect|refused)/i);
  const noPort = await healthcheck('127.0.0.1:0');
  assert.equal(noPort.status, 1);
  assert.match(noPort.stderr, /GATEHOUSE_LISTEN names no port/);
});
