// Audit rows for the account flows (reset, change, sessions, profile, rate limits); no
// password or token in the audit log, the server log or the database; Argon2 hashes with
// old parameters are upgraded at the next successful login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, cleanup, makeDataDir, request, get, post, expectError, expectMessage, sql, sqlQuote,
  storageDump, randomEmail, register, confirmationLink, openLink, loginOk, login, cookieValue,
  tokenOf, pathOf, updateUser, passwordResetLink, changeTokenOf, expectRateLimited, waitUntil,
  registerAndConfirm,
} from '../support/server.js';

const secret = (what) => `${what} secret passphrase ${randomBytes(8).toString('hex')}`;

let server;
let email;
let userId;
const ua = `security-test/${randomBytes(4).toString('hex')}`;
const headers = { 'user-agent': ua };
// every secret the flows below handled: none may be stored or logged
const secrets = {};

before(async () => {
  server = await startServer();
  email = randomEmail('sec');
  secrets.p0 = secret('first');
  secrets.p1 = secret('second');
  secrets.p2 = secret('third');
  secrets.wrongLogin = secret('wrong login');
  secrets.wrongCurrent = secret('wrong current');
  secrets.weak = `weak${randomBytes(2).toString('hex')}`; // refused as too short

  expectMessage(await post(server, '/users/register/', { email, password: secrets.p0, first_name: 'A', last_name: 'B' }, { headers }), 201);
  const link = await confirmationLink(server, email);
  secrets.confirmToken = tokenOf(link);
  assert.equal((await openLink(server, link)).status, 303);
  userId = sql(server.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(email)}`)[0].id;

  // two sessions, a profile update, a failed and a successful password change
  const c1 = await loginOk(server, { email, password: secrets.p0 }, { headers });
  const c2 = await loginOk(server, { email, password: secrets.p0 }, { headers });
  secrets.c1 = cookieValue(c1);
  secrets.c2 = cookieValue(c2);
  assert.equal((await updateUser(server, c1, { first_name: 'Grace' }, { headers })).status, 200);
  expectError(await post(server, '/users/change-password/', { current_password: secrets.wrongCurrent, new_password: secrets.p1 }, { cookie: c1, headers }), 400, 'wrong_password');
  expectError(await post(server, '/users/change-password/', { current_password: secrets.p0, new_password: secrets.weak }, { cookie: c1, headers }), 400, 'password_too_short');
  expectMessage(await post(server, '/users/change-password/', { current_password: secrets.p0, new_password: secrets.p1 }, { cookie: c1, headers }));

  // a third session, revoked by id from the first
  const c3 = await loginOk(server, { email, password: secrets.p1 }, { headers });
  secrets.c3 = cookieValue(c3);
  const sessions = (await get(server, '/users/sessions/', { cookie: c1 })).body.sessions;
  const third = sessions.find((s) => !s.current);
  expectMessage(await request(server, 'DELETE', `/users/sessions/${third.id}/`, { cookie: c1, headers }));

  // a reset through the mail
  expectMessage(await post(server, '/users/password-change/request-password-change/', { email }, { headers }));
  const resetLink = await passwordResetLink(server, email);
  secrets.resetToken = tokenOf(resetLink);
  secrets.changeToken = changeTokenOf(await get(server, pathOf(resetLink), { headers }), server.url);
  expectError(await post(server, '/users/password-change/change-user-password/', { token: secrets.changeToken, password: secrets.weak }, { headers }), 400, 'password_too_short');
  expectMessage(await post(server, '/users/password-change/change-user-password/', { token: secrets.changeToken, password: secrets.p2 }, { headers }));

  // a failed and a successful login with the final password
  expectError((await login(server, { email, password: secrets.wrongLogin }, { headers })).r, 401);
  const c4 = await loginOk(server, { email, password: secrets.p2 }, { headers });
  secrets.c4 = cookieValue(c4);
  expectMessage(await request(server, 'POST', '/users/logout/', { cookie: c4, headers }));

  // mail bodies waiting in the outbox hold their links until sent
  await waitUntil(() => sql(server.dataDir, 'SELECT count(*) AS n FROM mail_outbox WHERE sent_at IS NULL')[0].n === 0, { what: 'the outbox to drain' });
});
after(cleanup);

const rowsFor = () => sql(server.dataDir, `SELECT * FROM audit_log WHERE user_id = ${sqlQuote(userId)} OR email = ${sqlQuote(email)} ORDER BY id`);

for (const event of ['password_reset_request', 'password_reset', 'password_change', 'password_change_failure', 'session_revoked', 'profile_update']) {
  test(`the audit log records ${event} with user, IP, user agent and time`, async () => {
    const rows = rowsFor().filter((r) => r.event === event);
    assert.ok(rows.length >= 1, `no ${event} row; events: ${JSON.stringify(rowsFor().map((r) => r.event))}`);
    const row = rows[0];
    if (event === 'password_reset_request') {
      // recorded alike for every address, before anyone looked the account up
      assert.equal(row.user_id, null);
      assert.equal(row.email, email);
    } else {
      assert.equal(row.user_id, userId);
    }
    assert.equal(row.ip, '127.0.0.1');
    assert.equal(row.user_agent, ua);
    assert.ok(Number.isInteger(row.created_at) && Math.abs(row.created_at - Date.now() / 1000) < 600);
  });
}

test('one password_change_failure row per wrong current password, not for a refused new password', async () => {
  const rows = rowsFor().filter((r) => r.event === 'password_change_failure');
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rowsFor().filter((r) => r.event === 'password_change').length, 1, 'one successful change');
  assert.equal(rowsFor().filter((r) => r.event === 'password_reset').length, 1, 'one successful reset, none for the refused password');
});

test('a request refused by the per-IP limit is audited as rate_limited with the IP', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '1' } });
  expectError((await login(s, { email: randomEmail(), password: 'a wrong password here' })).r, 401);
  const limited = randomEmail();
  expectRateLimited((await login(s, { email: limited, password: 'a wrong password here' }, { headers })).r, 60);
  const rows = sql(s.dataDir, "SELECT * FROM audit_log WHERE event = 'rate_limited'");
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].ip, '127.0.0.1', JSON.stringify(rows[0]));
  assert.equal(rows[0].user_agent, ua);
  await s.stop();
});

test('a login refused by the per-account limit is audited as rate_limited with IP and account', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '1' } });
  const creds = await registerAndConfirm(s);
  const id = sql(s.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(creds.email)}`)[0].id;
  expectError((await login(s, { email: creds.email, password: 'a wrong password here' })).r, 401);
  expectRateLimited((await login(s, creds, { headers })).r, 15 * 60);
  const rows = sql(s.dataDir, "SELECT * FROM audit_log WHERE event = 'rate_limited'");
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.ok(rows[0].email === creds.email || rows[0].user_id === id, `the account is named: ${JSON.stringify(rows[0])}`);
  assert.equal(rows[0].ip, '127.0.0.1', JSON.stringify(rows[0]));
  assert.equal(rows[0].user_agent, ua, JSON.stringify(rows[0]));
  assert.ok(!JSON.stringify(rows).includes(creds.password));
  await s.stop();
});

test('a change-password refused by the per-account limit is audited as rate_limited', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '1' } });
  const creds = await registerAndConfirm(s);
  const cookie = await loginOk(s, creds);
  const body = (current) => ({ current_password: current, new_password: secret('unused') });
  expectError(await post(s, '/users/change-password/', body('a wrong password here'), { cookie }), 400, 'wrong_password');
  expectRateLimited(await post(s, '/users/change-password/', body(creds.password), { cookie, headers }), 15 * 60);
  const rows = sql(s.dataDir, "SELECT * FROM audit_log WHERE event = 'rate_limited'");
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].ip, '127.0.0.1', JSON.stringify(rows[0]));
  await s.stop();
});

test('no audit row holds a password or a token', async () => {
  const all = JSON.stringify(sql(server.dataDir, 'SELECT * FROM audit_log'));
  for (const [what, value] of Object.entries(secrets)) assert.ok(!all.includes(value), `${what} in audit_log`);
});

test('the server log holds no password and no token', async () => {
  const log = server.stderr() + server.stdout();
  assert.ok(log.length > 0);
  for (const [what, value] of Object.entries(secrets)) assert.ok(!log.includes(value), `${what} in the server log`);
});

test('no table of the database holds a password or a token: only hashes', async () => {
  const dump = storageDump(server.dataDir);
  for (const [what, value] of Object.entries(secrets)) assert.ok(!dump.includes(value), `${what} in the database dump`);
  const { password_hash: hash } = sql(server.dataDir, `SELECT password_hash FROM users WHERE id = ${sqlQuote(userId)}`)[0];
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});

test('a password hashed with older Argon2 parameters is upgraded at the next successful login', async () => {
  const dataDir = makeDataDir();
  const weak = await startServer({ dataDir, env: { GATEHOUSE_ARGON2_MEMORY_KIB: '8192', GATEHOUSE_ARGON2_ITERATIONS: '1' } });
  const creds = { email: randomEmail('argon'), password: secret('argon') };
  await register(weak, creds);
  assert.equal((await openLink(weak, await confirmationLink(weak, creds.email))).status, 303);
  const hashOf = () => sql(dataDir, `SELECT password_hash FROM users WHERE email = ${sqlQuote(creds.email)}`)[0].password_hash;
  const old = hashOf();
  assert.match(old, /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/, `hash made with the configured parameters: ${old}`);
  assert.equal(await weak.stop(), 0);

  const strong = await startServer({ dataDir });
  expectError((await login(strong, { email: creds.email, password: 'not the password at all' })).r, 401);
  assert.equal(hashOf(), old, 'a failed login does not touch the hash');
  const cookie = await loginOk(strong, creds);
  assert.equal((await get(strong, '/users/current-user/', { cookie })).status, 200);
  const upgraded = hashOf();
  assert.match(upgraded, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, `upgraded hash: ${upgraded}`);
  assert.ok(!upgraded.includes(creds.password));
  await loginOk(strong, creds);
  assert.equal(hashOf(), upgraded, 'an up-to-date hash is not rewritten');
  await strong.stop();
});
