// Rate limits: per client IP on credential routes, per account on failed logins, per address
// on email-sending routes; 429 rate_limited with Retry-After, and the limits expire.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, get, post, expectError, expectMessage, sql, sqlQuote, randomEmail,
  registration, register, registerAndConfirm, loginOk, sleep, deviceCookie, singleSetCookie,
} from '../support/server.js';

after(cleanup);

const WRONG = 'not the right password at all';

function expectRateLimited(r, maxSeconds) {
  expectError(r, 429, 'rate_limited');
  const ra = r.headers.get('retry-after');
  assert.match(ra || '', /^\d+$/, `Retry-After: ${ra}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= maxSeconds, `Retry-After ${ra} within the window of ${maxSeconds} s`);
}

test('credential requests per IP over the limit answer 429 with Retry-After, across routes', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '5' } });
  for (let i = 0; i < 5; i++) {
    const r = await post(s, '/users/login/', { email: randomEmail(), password: WRONG });
    expectError(r, 401, 'invalid_credentials');
  }
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 60);
  expectRateLimited(await post(s, '/users/register/', registration(randomEmail())), 60);
  expectRateLimited(await post(s, '/users/regenerate-token/', { email: randomEmail() }), 60);
  // other routes are not limited
  assert.equal((await get(s, '/health-check/')).status, 200);
  expectError(await get(s, '/users/current-user/'), 401, 'not_authenticated');
  await s.stop();
});

test('a refused (429) registration creates nothing', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '1' } });
  await register(s);
  const email = randomEmail();
  expectRateLimited(await post(s, '/users/register/', registration(email)), 60);
  assert.equal(sql(s.dataDir, `SELECT count(*) AS n FROM users WHERE email = ${sqlQuote(email)}`)[0].n, 0);
  await s.stop();
});

test('the IP limit expires with its window', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '2', GATEHOUSE_RATE_IP_WINDOW: '2' } });
  for (let i = 0; i < 2; i++) expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 401);
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 2);
  await sleep(3100);
  expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 401, 'invalid_credentials');
  await s.stop();
});

test('failed logins per account and address over the limit answer 429 there, even with the right password', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  for (let i = 0; i < 3; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }), 401, 'invalid_credentials');
  const locked = await post(s, '/users/login/', creds);
  expectRateLimited(locked, 15 * 60);
  assert.deepEqual(locked.headers.getSetCookie(), [], 'no session while limited');
  // another account from the same IP is not affected
  const other = await registerAndConfirm(s);
  await loginOk(s, other);
  // nor the same account from another address
  await loginOk(s, creds, { from: '127.0.0.2' });
  await s.stop();
});

/** Logs in from 127.0.0.1 and calls current-user, which hands out the device cookie. */
async function deviceCookieOf(s, creds) {
  const session = await loginOk(s, creds);
  const device = deviceCookie(await get(s, '/users/current-user/', { cookie: session }));
  assert.ok(device, 'current-user sets the device cookie');
  return device;
}

/** n wrong passwords for email from the loopback alias `from`; returns the statuses. */
async function wrongFrom(s, email, from, n) {
  const statuses = [];
  for (let i = 0; i < n; i++) statuses.push((await post(s, '/users/login/', { email, password: WRONG }, { from })).status);
  return statuses;
}

test('wrong passwords from one address do not lock the owner out at another', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000' } });
  const creds = await registerAndConfirm(s);
  const statuses = await wrongFrom(s, creds.email, '127.0.0.2', 50);
  assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(40).fill(429)]);
  // the owner, at 127.0.0.1 without a device cookie, still logs in
  await loginOk(s, creds);
  expectRateLimited(await post(s, '/users/login/', creds, { from: '127.0.0.2' }), 15 * 60);
  await s.stop();
});

test('past the account ceiling only a browser with the device cookie gets in', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_CEILING: '25' } });
  const creds = await registerAndConfirm(s);
  const device = await deviceCookieOf(s, creds);
  const intruder = await registerAndConfirm(s);
  const intrudersDevice = await deviceCookieOf(s, intruder);
  // 50 wrong passwords from 127.0.0.2, then more from other addresses: 25 reach the ceiling
  assert.deepEqual(await wrongFrom(s, creds.email, '127.0.0.2', 50), [...Array(10).fill(401), ...Array(40).fill(429)]);
  assert.deepEqual(await wrongFrom(s, creds.email, '127.0.0.3', 10), Array(10).fill(401));
  assert.deepEqual(await wrongFrom(s, creds.email, '127.0.0.4', 8), [...Array(5).fill(401), ...Array(3).fill(429)]);
  // without the device cookie the owner waits, with it the owner is in
  const without = await post(s, '/users/login/', creds);
  expectRateLimited(without, 3600);
  const withCookie = await post(s, '/users/login/', creds, { cookie: device });
  assert.equal(withCookie.status, 200, withCookie.text);
  assert.ok(singleSetCookie(withCookie).startsWith('sessionid='), 'still exactly one Set-Cookie');
  // a device cookie of another account does not open this one
  expectRateLimited(await post(s, '/users/login/', creds, { cookie: intrudersDevice, from: '127.0.0.5' }), 3600);
  // a wrong password with the device cookie is counted on the device, not refused by the ceiling
  expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }, { cookie: device }), 401, 'invalid_credentials');
  await s.stop();
});

test('a device cookie has its own failure limit', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  const device = await deviceCookieOf(s, creds);
  for (let i = 0; i < 3; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }, { cookie: device }), 401);
  expectRateLimited(await post(s, '/users/login/', creds, { cookie: device }), 15 * 60);
  // the failures on the device did not use up the address's count
  await loginOk(s, creds);
  await s.stop();
});

test('the account limit answers alike for unknown and known emails', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  const unknown = randomEmail();
  for (const email of [creds.email, unknown]) {
    for (let i = 0; i < 3; i++) expectError(await post(s, '/users/login/', { email, password: WRONG }), 401);
  }
  const a = await post(s, '/users/login/', { email: creds.email, password: WRONG });
  const b = await post(s, '/users/login/', { email: unknown, password: WRONG });
  expectRateLimited(a, 15 * 60);
  expectRateLimited(b, 15 * 60);
  assert.equal(a.body.error, b.body.error);
  assert.equal(a.body.code, b.body.code);
  await s.stop();
});

test('concurrent wrong passwords for one account: only the limit are verified, the rest get 429', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000' } });
  const creds = await registerAndConfirm(s);
  const answers = await Promise.all(Array.from({ length: 40 }, () =>
    post(s, '/users/login/', { email: creds.email, password: WRONG })));
  const verified = answers.filter((r) => r.status === 401);
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(verified.length <= 10, `${verified.length} wrong passwords verified, the limit is 10`);
  assert.equal(verified.length + limited.length, 40, `statuses: ${answers.map((r) => r.status)}`);
  for (const r of verified) expectError(r, 401, 'invalid_credentials');
  for (const r of limited) expectRateLimited(r, 15 * 60);
  const failures = sql(s.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'login_failure' AND email = ${sqlQuote(creds.email)}`)[0].n;
  assert.equal(failures, verified.length, 'one verification per 401, none for a 429');
  await s.stop();
});

test('concurrent wrong current passwords of change-password: only the limit are verified, the rest get 429', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000' } });
  const creds = await registerAndConfirm(s);
  const cookie = await loginOk(s, creds);
  const body = { current_password: WRONG, new_password: 'a brand new passphrase 77' };
  const answers = await Promise.all(Array.from({ length: 40 }, () =>
    post(s, '/users/change-password/', body, { cookie })));
  const verified = answers.filter((r) => r.status === 400);
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(verified.length <= 10, `${verified.length} current passwords verified, the limit is 10`);
  assert.equal(verified.length + limited.length, 40, `statuses: ${answers.map((r) => r.status)}`);
  for (const r of verified) expectError(r, 400, 'wrong_password', 'current_password');
  for (const r of limited) expectRateLimited(r, 15 * 60);
  const failures = sql(s.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'password_change_failure' AND email = ${sqlQuote(creds.email)}`)[0].n;
  assert.equal(failures, verified.length, 'one verification per 400, none for a 429');
  await s.stop();
});

test('a right password takes its count back: failures and successes interleaved never lock the owner', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  const cookie = await loginOk(s, creds);
  for (let i = 0; i < 6; i++) await loginOk(s, creds);
  const next = 'a brand new passphrase 77';
  expectMessage(await post(s, '/users/change-password/', { current_password: creds.password, new_password: next }, { cookie }));
  for (let i = 0; i < 2; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }), 401);
  await loginOk(s, { email: creds.email, password: next });
  await s.stop();
});

test('a successful login clears the failed-login count of the account', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }), 401);
    await loginOk(s, creds);
  }
  await s.stop();
});

test('the account limit expires with its window', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '2', GATEHOUSE_RATE_ACCOUNT_WINDOW: '2' } });
  const creds = await registerAndConfirm(s);
  for (let i = 0; i < 2; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }), 401);
  expectRateLimited(await post(s, '/users/login/', creds), 2);
  await sleep(3100);
  await loginOk(s, creds);
  await s.stop();
});

test('email-sending requests per address over the limit answer 429 and queue no mail', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000' } });
  const { email } = await register(s);
  for (let i = 0; i < 3; i++) expectMessage(await post(s, '/users/regenerate-token/', { email }));
  const r = await post(s, '/users/regenerate-token/', { email });
  expectRateLimited(r, 15 * 60);
  const n = sql(s.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0].n;
  assert.equal(n, 4, 'registration mail + three regenerated mails, none for the refused request');
  // an unknown address is counted too, so the 429 reveals nothing
  const unknown = randomEmail();
  for (let i = 0; i < 3; i++) expectMessage(await post(s, '/users/regenerate-token/', { email: unknown }));
  const u = await post(s, '/users/regenerate-token/', { email: unknown });
  expectRateLimited(u, 15 * 60);
  assert.equal(u.text, r.text);
  // a different address is not affected
  const { email: other } = await register(s);
  expectMessage(await post(s, '/users/regenerate-token/', { email: other }));
  await s.stop();
});

test('X-Forwarded-For is ignored unless the connection comes from a trusted proxy', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '3' } });
  for (let i = 0; i < 3; i++) {
    expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, { headers: { 'x-forwarded-for': `10.0.0.${i + 1}` } }), 401);
  }
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, { headers: { 'x-forwarded-for': '10.0.0.99' } }), 60);
  await s.stop();
});

test('behind a trusted proxy each forwarded client has its own IP limit', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '3', GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' } });
  const from = (ip) => ({ headers: { 'x-forwarded-for': ip } });
  for (let i = 0; i < 3; i++) expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.1')), 401);
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.1')), 60);
  // the rightmost untrusted entry is the client: a spoofed left entry does not help
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('1.2.3.4, 10.0.0.1')), 60);
  expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.2')), 401, 'invalid_credentials');
  // the audit log records the forwarded client address
  const email = randomEmail();
  expectError(await post(s, '/users/login/', { email, password: WRONG }, from('10.0.0.3')), 401);
  const rows = sql(s.dataDir, `SELECT ip FROM audit_log WHERE email = ${sqlQuote(email)}`);
  assert.deepEqual(rows.map((r) => r.ip), ['10.0.0.3']);
  await s.stop();
});

test('a limited client still gets its current user and can log out', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '3' } });
  const creds = await registerAndConfirm(s); // register: 1
  const cookie = await loginOk(s, creds); // login: 2
  expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 401); // 3
  expectRateLimited(await post(s, '/users/login/', creds), 60);
  assert.equal((await get(s, '/users/current-user/', { cookie })).status, 200);
  const out = await post(s, '/users/logout/', {}, { cookie });
  expectMessage(out);
  await s.stop();
});

// ---------------------------------------------------------------- behind a relaying frontend

/** Runs fn(i) for i < n, `batch` at a time; resolves with the answers in order. */
async function inBatches(n, batch, fn) {
  const out = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => fn(i + j))));
  }
  return out;
}

test('a relaying frontend is not limited per IP; per-account and per-address limits still apply', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RELAYING_FRONTENDS: '127.0.0.1', GATEHOUSE_RATE_ACCOUNT_CEILING: '20' } });
  const registrations = await inBatches(100, 10, () => post(s, '/users/register/', registration(randomEmail())));
  assert.deepEqual([...new Set(registrations.map((r) => r.status))], [201]);
  const logins = await inBatches(100, 10, () => post(s, '/users/login/', { email: randomEmail(), password: WRONG }));
  assert.deepEqual([...new Set(logins.map((r) => r.status))], [401]);
  // per account: the ceiling (the frontend's address says nothing about the client)
  const creds = await registerAndConfirm(s);
  const statuses = [];
  for (let i = 0; i < 25; i++) statuses.push((await post(s, '/users/login/', { email: creds.email, password: WRONG })).status);
  assert.deepEqual(statuses, [...Array(20).fill(401), ...Array(5).fill(429)]);
  expectRateLimited(await post(s, '/users/login/', creds), 3600);
  // per address: the mail limit
  const email = randomEmail();
  for (let i = 0; i < 3; i++) expectMessage(await post(s, '/users/regenerate-token/', { email }));
  expectRateLimited(await post(s, '/users/regenerate-token/', { email }), 15 * 60);
  // a client that is not the frontend keeps its per-IP limit
  for (let i = 0; i < 30; i++) expectMessage(await post(s, '/users/regenerate-token/', { email: randomEmail() }, { from: '127.0.0.2' }));
  expectRateLimited(await post(s, '/users/regenerate-token/', { email: randomEmail() }, { from: '127.0.0.2' }), 60);
  await s.stop();
});

test('without GATEHOUSE_RELAYING_FRONTENDS every user behind a frontend shares its per-IP budget', async () => {
  const s = await startServer({ defaultRateLimits: true });
  let first429 = -1;
  for (let i = 0; i < 100 && first429 < 0; i++) {
    const r = await post(s, i % 2 ? '/users/login/' : '/users/register/', i % 2 ? { email: randomEmail(), password: WRONG } : registration(randomEmail()));
    if (r.status === 429) {
      expectRateLimited(r, 60);
      first429 = i;
    }
  }
  assert.equal(first429, 30, 'the 31st request of the minute is refused');
  await s.stop();
});

test('a relaying frontend that is a trusted proxy and forwards the client: that client is limited per IP', async () => {
  const s = await startServer({
    defaultRateLimits: true,
    env: { GATEHOUSE_RELAYING_FRONTENDS: '127.0.0.1', GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1', GATEHOUSE_RATE_IP_MAX: '3', GATEHOUSE_RATE_ACCOUNT_MAX: '2' },
  });
  const from = (ip) => ({ headers: { 'x-forwarded-for': ip } });
  for (let i = 0; i < 3; i++) expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.1')), 401);
  expectRateLimited(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.1')), 60);
  expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }, from('10.0.0.2')), 401, 'invalid_credentials');
  // the frontend's own requests, without a forwarded address, are not limited per IP
  for (let i = 0; i < 6; i++) expectError(await post(s, '/users/login/', { email: randomEmail(), password: WRONG }), 401);
  // and the per-account count is per forwarded client
  const creds = await registerAndConfirm(s);
  for (let i = 0; i < 2; i++) expectError(await post(s, '/users/login/', { email: creds.email, password: WRONG }, from('10.0.0.7')), 401);
  expectRateLimited(await post(s, '/users/login/', creds, from('10.0.0.7')), 15 * 60);
  assert.equal((await post(s, '/users/login/', creds, from('10.0.0.8'))).status, 200);
  await s.stop();
});
