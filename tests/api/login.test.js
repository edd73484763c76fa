// POST /users/login/: the user object, the session cookie, no account enumeration,
// rotation, hashed storage and the bounded hash pool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  startServer, sessionRows, storageDump, cleanup, get, post, expectError, assertJsonContentType, sql, sqlQuote,
  randomEmail, register, registerAndConfirm, confirmationLink, openLink, login, loginOk, singleSetCookie, cookieValue,
  assertUserObject, PASSWORD, SESSION_RE,
} from '../support/server.js';

let server;
let user;
before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server, { first_name: 'Grace', last_name: 'Hopper' });
});
after(cleanup);

const WRONG = 'not the right password at all';

test('login answers 200 with the user object', async () => {
  const { r, user: u } = await login(server, user);
  assert.equal(r.status, 200, r.text);
  assertJsonContentType(r);
  assertUserObject(u, user.email);
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.last_name, 'Hopper');
  assert.ok(!/password|argon2/i.test(r.text), 'no password or hash in the answer');
});

test('the user object matches the database row', async () => {
  const { user: u } = await login(server, user);
  const row = sql(server.dataDir, `SELECT * FROM users WHERE email = ${sqlQuote(user.email)}`)[0];
  assert.equal(u.id, row.id);
  assert.equal(Date.parse(u.date_joined) / 1000, row.date_joined);
});

test('login sets exactly one session cookie: HttpOnly, SameSite=Lax, Path=/, no Max-Age, no Secure', async () => {
  const { r } = await login(server, user);
  const sc = singleSetCookie(r);
  assert.ok(sc.startsWith('sessionid='), sc);
  const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
  const value = pair.slice('sessionid='.length);
  assert.match(value, SESSION_RE);
  const names = attrs.map((a) => a.split('=')[0].toLowerCase());
  assert.ok(attrs.some((a) => /^httponly$/i.test(a)), sc);
  assert.ok(attrs.some((a) => /^samesite=lax$/i.test(a)), sc);
  assert.ok(attrs.some((a) => a === 'Path=/' || /^path=\/$/i.test(a)), sc);
  assert.ok(!names.includes('max-age'), `no Max-Age: ${sc}`);
  assert.ok(!names.includes('expires'), `no Expires: ${sc}`);
  assert.ok(!names.includes('secure'), `no Secure on http: ${sc}`);
  assert.ok(!names.includes('domain'), `no Domain: ${sc}`);
});

test('login answers are not cached', async () => {
  const { r } = await login(server, user);
  assert.match(r.headers.get('cache-control') || '', /no-store/);
});

test('login rejects unknown email like wrong password', async () => {
  const unknown = await post(server, '/users/login/', { email: randomEmail(), password: WRONG });
  const wrong = await post(server, '/users/login/', { email: user.email, password: WRONG });
  expectError(unknown, 401, 'invalid_credentials');
  expectError(wrong, 401, 'invalid_credentials');
  assert.equal(unknown.text, wrong.text, 'same body byte for byte');
  assert.equal(unknown.headers.get('content-type'), wrong.headers.get('content-type'));
  assert.deepEqual(unknown.headers.getSetCookie(), wrong.headers.getSetCookie());
  // unknown email with the password of a real account: still the same
  const unknown2 = await post(server, '/users/login/', { email: randomEmail(), password: PASSWORD });
  assert.equal(unknown2.status, 401);
  assert.equal(unknown2.text, wrong.text);
});

test('login with an inactive account and the right password answers 403 inactive', async () => {
  const { email } = await register(server);
  const { r } = await login(server, { email, password: PASSWORD });
  expectError(r, 403, 'inactive');
  assert.deepEqual(r.headers.getSetCookie(), [], 'no cookie for an inactive account');
});

test('login with an inactive account and a wrong password answers like any wrong password', async () => {
  const { email } = await register(server);
  const inactive = await post(server, '/users/login/', { email, password: WRONG });
  const wrong = await post(server, '/users/login/', { email: user.email, password: WRONG });
  expectError(inactive, 401, 'invalid_credentials');
  assert.equal(inactive.text, wrong.text);
});

test('login matches the email case-insensitively and the password exactly', async () => {
  await loginOk(server, { email: user.email.toUpperCase(), password: PASSWORD });
  const { r } = await login(server, { email: user.email, password: PASSWORD.toUpperCase() });
  expectError(r, 401, 'invalid_credentials');
  const { r: r2 } = await login(server, { email: user.email, password: PASSWORD + ' ' });
  expectError(r2, 401, 'invalid_credentials');
});

test('login with an empty password is refused', async () => {
  const r = await post(server, '/users/login/', { email: user.email, password: '' });
  assert.ok([400, 401].includes(r.status), `${r.status} ${r.text}`);
  expectError(r, r.status);
});

test('the session cookie authenticates current-user', async () => {
  const cookie = await loginOk(server, user);
  const me = await get(server, '/users/current-user/', { cookie });
  assert.equal(me.status, 200, me.text);
  assertUserObject(me.body, user.email);
});

test('two logins give two different cookies, both valid', async () => {
  const a = await loginOk(server, user);
  const b = await loginOk(server, user);
  assert.notEqual(a, b);
  assert.equal((await get(server, '/users/current-user/', { cookie: a })).status, 200);
  assert.equal((await get(server, '/users/current-user/', { cookie: b })).status, 200);
});

test('login rotates: the session cookie sent with the login request is revoked', async () => {
  const old = await loginOk(server, user);
  const fresh = await loginOk(server, user, { cookie: old });
  assert.notEqual(old, fresh);
  const oldMe = await get(server, '/users/current-user/', { cookie: old });
  expectError(oldMe, 401, 'not_authenticated');
  const newMe = await get(server, '/users/current-user/', { cookie: fresh });
  assert.equal(newMe.status, 200);
});

test('a failed login does not revoke the session cookie it was sent with', async () => {
  const cookie = await loginOk(server, user);
  const r = await post(server, '/users/login/', { email: user.email, password: WRONG }, { cookie });
  expectError(r, 401, 'invalid_credentials');
  assert.equal((await get(server, '/users/current-user/', { cookie })).status, 200);
});

test('the server stores only a hash of the session token', async () => {
  const cookie = await loginOk(server, user);
  const token = cookieValue(cookie);
  const [{ id: userId }] = sql(server.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(user.email)}`);
  const rows = sessionRows(server.dataDir, (s) => s.user_id === userId);
  assert.ok(rows.length >= 1);
  for (const row of rows) {
    assert.notEqual(row.token_hash, token);
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
  }
  assert.ok(!JSON.stringify(sessionRows(server.dataDir)).includes(token), 'token not in any session field');
  const dump = storageDump(server.dataDir);
  assert.ok(!dump.includes(token), 'token nowhere in what the server stores');
  assert.ok(!dump.includes(Buffer.from(token).toString('hex')), 'token not stored as hex either');
});

test('a session row records its user, times, IP and user agent', async () => {
  const ua = `gatehouse-tests/${Math.random().toString(36).slice(2)}`;
  const r = await post(server, '/users/login/', { email: user.email, password: PASSWORD }, { headers: { 'user-agent': ua } });
  assert.equal(r.status, 200);
  const rows = sessionRows(server.dataDir, (s) => s.user_agent === ua);
  assert.equal(rows.length, 1);
  const s = rows[0];
  assert.equal(s.ip, '127.0.0.1');
  assert.ok(Number.isInteger(s.created_at) && Number.isInteger(s.expires_at));
  assert.equal(s.expires_at - s.created_at, 24 * 3600, 'absolute lifetime 24 h by default');
});

test('login with a cross-site Origin is refused with 403 bad_origin', async () => {
  const r = await post(server, '/users/login/', { email: user.email, password: PASSWORD }, { headers: { origin: 'http://evil.example' } });
  expectError(r, 403, 'bad_origin');
  assert.deepEqual(r.headers.getSetCookie(), []);
});

test('login with the server\'s own Origin is accepted', async () => {
  const r = await post(server, '/users/login/', { email: user.email, password: PASSWORD }, { headers: { origin: server.url } });
  assert.equal(r.status, 200, r.text);
});

test('with an https public URL the cookie is Secure, links use it, and it is an allowed Origin', async () => {
  const s = await startServer({ env: { GATEHOUSE_PUBLIC_URL: 'https://auth.example' } });
  const { email } = await register(s);
  const link = await confirmationLink(s, email);
  assert.ok(link.startsWith('https://auth.example/users/register/confirm/?token='), link);
  const c = await openLink(s, link);
  assert.equal(c.status, 303);
  assert.equal(c.headers.get('location'), 'https://auth.example/auth/confirmed');
  const r = await post(s, '/users/login/', { email, password: PASSWORD }, { headers: { origin: 'https://auth.example' } });
  assert.equal(r.status, 200, r.text);
  const sc = singleSetCookie(r);
  assert.ok(sc.split(';').map((a) => a.trim().toLowerCase()).includes('secure'), `Secure: ${sc}`);
  assert.match(r.headers.get('strict-transport-security') || '', /max-age=\d+/, 'HSTS when https');
  await s.stop();
});

test('GATEHOUSE_COOKIE_NAME renames the session cookie', async () => {
  const s = await startServer({ env: { GATEHOUSE_COOKIE_NAME: 'gh_session' } });
  const creds = await registerAndConfirm(s);
  const r = await post(s, '/users/login/', creds);
  assert.equal(r.status, 200);
  const sc = singleSetCookie(r);
  assert.ok(sc.startsWith('gh_session='), sc);
  const cookie = sc.split(';')[0];
  assert.equal((await get(s, '/users/current-user/', { cookie })).status, 200);
  expectError(await get(s, '/users/current-user/', { cookie: cookie.replace('gh_session', 'sessionid') }), 401);
  await s.stop();
});

test('a full hash pool answers 503 busy with Retry-After, and the server stays healthy', async () => {
  const small = await startServer({ env: { GATEHOUSE_HASH_THREADS: '1', GATEHOUSE_HASH_QUEUE: '1' } });
  const creds = await registerAndConfirm(small);
  const attempts = Array.from({ length: 30 }, (_, i) =>
    post(small, '/users/login/', { email: i % 3 === 2 ? randomEmail() : creds.email, password: i % 2 ? PASSWORD : WRONG }));
  const answers = await Promise.all(attempts);
  const statuses = answers.map((r) => r.status);
  const busy = answers.filter((r) => r.status === 503);
  assert.ok(busy.length >= 1, `expected at least one 503, got ${statuses}`);
  for (const r of busy) {
    expectError(r, 503, 'busy');
    assert.equal(r.headers.get('retry-after'), '1');
  }
  for (const r of answers) assert.ok([200, 401, 503].includes(r.status), `unexpected ${r.status} ${r.text}`);
  assert.equal((await get(small, '/health-check/')).status, 200);
  await loginOk(small, creds);
  assert.equal(await small.stop(), 0, 'clean exit on SIGTERM');
});

/** Per thread of a running server: nice value, CPU ticks used (user + system), and the time
 * slice the scheduler reports (null where the kernel does not show it). */
function serverThreads(s) {
  const dir = `/proc/${s.proc.pid}/task`;
  return fs.readdirSync(dir).map((tid) => {
    const stat = fs.readFileSync(`${dir}/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sched = fs.readFileSync(`${dir}/${tid}/sched`, 'utf8');
    const slice = /^se\.slice\s*:\s*(\d+)/m.exec(sched);
    return { tid, nice: Number(fields[16]), ticks: Number(fields[11]) + Number(fields[12]), slice: slice ? Number(slice[1]) : null };
  });
}

test('password hashes run on their own lower-priority threads, one per GATEHOUSE_HASH_THREADS, and nothing else does', async () => {
  const s = await startServer({ env: { GATEHOUSE_HASH_THREADS: '3' } });
  const creds = await registerAndConfirm(s);
  const lowered = (threads) => threads.filter((t) => t.nice === 10);
  const before = serverThreads(s);
  assert.equal(lowered(before).length, 3, JSON.stringify(before));
  for (const t of before) assert.ok(t.nice === 0 || t.nice === 10, `thread ${t.tid} at nice ${t.nice}`);
  // Where the kernel reports slices, the hashing threads ask for the shortest one, so a
  // session check that wakes up while they run gets the core at once.
  for (const t of lowered(before)) if (t.slice !== null) assert.equal(t.slice, 100000);
  for (const t of before.filter((x) => x.nice === 0)) if (t.slice !== null) assert.notEqual(t.slice, 100000);
  // Twenty logins from eight connections at once: the Argon2 work lands on those threads.
  for (let round = 0; round < 5; round++) {
    const answers = await Promise.all(Array.from({ length: 4 }, () => post(s, '/users/login/', creds)));
    for (const r of answers) assert.equal(r.status, 200, r.text);
  }
  const after = serverThreads(s);
  const used = (threads, pick) => threads.filter(pick).reduce((n, t) => n + t.ticks, 0);
  const hashing = new Set(lowered(before).map((t) => t.tid));
  const onHashThreads = used(after, (t) => hashing.has(t.tid)) - used(before, (t) => hashing.has(t.tid));
  const elsewhere = used(after, (t) => !hashing.has(t.tid)) - used(before, (t) => !hashing.has(t.tid));
  assert.ok(onHashThreads >= 3 * elsewhere, `hash threads used ${onHashThreads} ticks, the others ${elsewhere}`);
  assert.equal(await s.stop(), 0);
});
