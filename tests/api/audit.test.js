// The audit log records register, confirm, login success/failure and logout — and neither
// it nor the server's log ever holds a password or a session token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, cleanup, request, post, sql, sqlQuote, storageDump, randomEmail, register,
  confirmationLink, openLink, loginOk, expectError, expectMessage, cookieValue, tokenOf,
} from '../support/server.js';

let server;
let email;
let password;
let wrongPassword;
let cookie;
let userId;
const ua = `audit-test/${randomBytes(4).toString('hex')}`;
const headers = { 'user-agent': ua };

before(async () => {
  server = await startServer();
  email = randomEmail('audit');
  password = `audit secret ${randomBytes(8).toString('hex')}`;
  wrongPassword = `wrong secret ${randomBytes(8).toString('hex')}`;
  expectMessage(await post(server, '/users/register/', { email, password, first_name: 'A', last_name: 'B' }, { headers }), 201);
  const link = await confirmationLink(server, email);
  const c = await openLink(server, link);
  assert.equal(c.status, 303);
  expectError(await post(server, '/users/login/', { email, password: wrongPassword }, { headers }), 401);
  cookie = await loginOk(server, { email, password }, { headers });
  expectMessage(await request(server, 'POST', '/users/logout/', { cookie, headers: { ...headers, 'content-type': 'application/json' } }));
  userId = sql(server.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(email)}`)[0].id;
});
after(cleanup);

const rowsFor = () => sql(server.dataDir, `SELECT * FROM audit_log WHERE email = ${sqlQuote(email)} OR user_id = ${sqlQuote(userId)} ORDER BY created_at, id`);

for (const event of ['register', 'confirm', 'login_success', 'login_failure', 'logout']) {
  test(`the audit log records ${event} with user, IP and time`, async () => {
    const rows = rowsFor().filter((r) => r.event === event);
    assert.ok(rows.length >= 1, `no ${event} row; rows: ${JSON.stringify(rowsFor().map((r) => r.event))}`);
    const row = rows[0];
    assert.equal(row.user_id, userId);
    assert.equal(row.ip, '127.0.0.1');
    assert.ok(Number.isInteger(row.created_at), 'created_at is unix seconds');
    assert.ok(Math.abs(row.created_at - Date.now() / 1000) < 600);
    if (event !== 'confirm') assert.equal(row.user_agent, ua);
  });
}

test('a failed login for an unknown email is audited with the email and no user', async () => {
  const unknown = randomEmail('nobody');
  expectError(await post(server, '/users/login/', { email: unknown, password: wrongPassword }), 401);
  const rows = sql(server.dataDir, `SELECT * FROM audit_log WHERE event = 'login_failure' AND email = ${sqlQuote(unknown)}`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].user_id, null);
});

test('no audit row holds a password or the session token', async () => {
  const token = cookieValue(cookie);
  const all = JSON.stringify(sql(server.dataDir, 'SELECT * FROM audit_log'));
  assert.ok(!all.includes(password), 'password not in audit_log');
  assert.ok(!all.includes(wrongPassword), 'wrong password not in audit_log');
  assert.ok(!all.includes(token), 'session token not in audit_log');
});

test('no table of the database holds a password or the session token', async () => {
  const dump = storageDump(server.dataDir);
  assert.ok(!dump.includes(password));
  assert.ok(!dump.includes(wrongPassword));
  assert.ok(!dump.includes(cookieValue(cookie)));
});

test('the server log holds neither passwords nor the session token', async () => {
  const log = server.stderr() + server.stdout();
  assert.ok(log.length > 0, 'the server logs something');
  assert.ok(!log.includes(password), 'password not logged');
  assert.ok(!log.includes(wrongPassword), 'wrong password not logged');
  assert.ok(!log.includes(cookieValue(cookie)), 'session token not logged');
});

test('the server log holds no one-time token', async () => {
  const token = tokenOf(await confirmationLink(server, email));
  assert.ok(!(server.stderr() + server.stdout()).includes(token), 'confirmation token not logged');
});

test('the server log is one JSON object per line', async () => {
  const lines = server.stderr().split('\n').filter((l) => l.trim());
  assert.ok(lines.length > 0);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
});
