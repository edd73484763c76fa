// GET /users/current-user/ and POST /users/logout/, and the Origin check on cookie routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, sessionRows, cleanup, request, get, post, expectError, expectMessage, assertJsonContentType,
  sql, sqlQuote, registerAndConfirm, loginOk, singleSetCookie, cookieValue, assertUserObject,
} from '../support/server.js';

let server;
let user;
before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const me = (cookie, headers) => get(server, '/users/current-user/', { cookie, headers });
const logout = (cookie, headers = {}) =>
  request(server, 'POST', '/users/logout/', { cookie, headers: { 'content-type': 'application/json', ...headers } });

test('a user deactivated in the database: the session is refused at the next request, and comes back with the account', async () => {
  const creds = await registerAndConfirm(server);
  const cookie = await loginOk(server, creds);
  assert.equal((await me(cookie)).status, 200);
  const active = (on) => sql(server.dataDir, `UPDATE users SET is_active = ${on ? 'true' : 'false'} WHERE email = ${sqlQuote(creds.email)}`);
  active(false);
  expectError(await me(cookie), 401, 'not_authenticated');
  expectError(await logout(cookie, { origin: server.url }), 401, 'not_authenticated');
  active(true);
  assert.equal((await me(cookie)).status, 200, 'the session itself was not deleted');
});

test('current-user with a session answers 200 with the user object', async () => {
  const cookie = await loginOk(server, user);
  const r = await me(cookie);
  assert.equal(r.status, 200, r.text);
  assertJsonContentType(r);
  assertUserObject(r.body, user.email);
  assert.match(r.headers.get('cache-control') || '', /no-store/, 'user data is not cached');
});

test('current-user without trailing slash is served identically', async () => {
  const cookie = await loginOk(server, user);
  const a = await me(cookie);
  const b = await get(server, '/users/current-user', { cookie });
  assert.equal(b.status, 200);
  assert.deepEqual(b.body, a.body);
});

test('current-user never sets the session cookie, and no cookie at all once the browser has its device cookie', async () => {
  const cookie = await loginOk(server, user);
  const first = await me(cookie);
  const set = first.headers.getSetCookie();
  assert.equal(set.length, 1, JSON.stringify(set));
  assert.ok(set[0].startsWith('gh_device='), `only the device cookie: ${set[0]}`);
  const r = await me(`${cookie}; ${set[0].split(';')[0]}`);
  assert.deepEqual(r.headers.getSetCookie(), []);
});

test('current-user without a cookie answers 401 not_authenticated', async () => {
  expectError(await me(), 401, 'not_authenticated');
});

test('current-user with a garbage cookie answers 401 not_authenticated', async () => {
  const cookies = [
    'sessionid=garbage',
    `sessionid=${randomBytes(32).toString('base64url')}`,
    'sessionid=',
    'sessionid',
    `sessionid=${'A'.repeat(5000)}`,
    'sessionid="quoted"',
    'other=1',
    'sessionid=a;sessionid=b',
  ];
  for (const cookie of cookies) expectError(await me(cookie), 401, 'not_authenticated');
});

test('current-user finds the session cookie among other cookies', async () => {
  const cookie = await loginOk(server, user);
  const r = await me(`theme=dark; ${cookie}; csrftoken=abc`);
  assert.equal(r.status, 200, r.text);
});

test('a session cookie with one character changed is refused', async () => {
  const cookie = await loginOk(server, user);
  const v = cookieValue(cookie);
  const flipped = v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A');
  expectError(await me(`sessionid=${flipped}`), 401, 'not_authenticated');
});

test('logout answers 200 with a removal cookie', async () => {
  const cookie = await loginOk(server, user);
  const r = await logout(cookie);
  expectMessage(r, 200);
  const sc = singleSetCookie(r);
  assert.ok(sc.startsWith('sessionid=;'), `removal cookie: ${sc}`);
  const attrs = sc.split(';').map((s) => s.trim());
  assert.ok(attrs.includes('Max-Age=0'), sc);
  assert.ok(attrs.some((a) => /^httponly$/i.test(a)), sc);
  assert.ok(attrs.some((a) => /^samesite=lax$/i.test(a)), sc);
  assert.ok(attrs.some((a) => /^path=\/$/i.test(a)), sc);
});

test('after logout the session is unusable', async () => {
  const cookie = await loginOk(server, user);
  expectMessage(await logout(cookie));
  expectError(await me(cookie), 401, 'not_authenticated');
  expectError(await logout(cookie), 401, 'not_authenticated');
});

test('logout deletes the stored session', async () => {
  const ua = `logout-test/${randomBytes(4).toString('hex')}`;
  const cookie = await loginOk(server, user, { headers: { 'user-agent': ua } });
  assert.equal(sessionRows(server.dataDir, (s) => s.user_agent === ua).length, 1);
  expectMessage(await logout(cookie));
  assert.equal(sessionRows(server.dataDir, (s) => s.user_agent === ua).length, 0);
});

test('logout revokes only its own session', async () => {
  const a = await loginOk(server, user);
  const b = await loginOk(server, user);
  expectMessage(await logout(a));
  expectError(await me(a), 401);
  assert.equal((await me(b)).status, 200);
});

test('logout without a session answers 401 not_authenticated', async () => {
  expectError(await logout(), 401, 'not_authenticated');
  expectError(await logout('sessionid=nope'), 401, 'not_authenticated');
});

test('logout ignores its body and works with an empty body and no content type', async () => {
  const cookie = await loginOk(server, user);
  const r = await request(server, 'POST', '/users/logout/', { cookie });
  expectMessage(r);
  const cookie2 = await loginOk(server, user);
  const r2 = await request(server, 'POST', '/users/logout/', { cookie: cookie2, body: '{"anything": [1, 2]}', headers: { 'content-type': 'application/json' } });
  expectMessage(r2);
});

test('logout without trailing slash is served identically', async () => {
  const cookie = await loginOk(server, user);
  expectMessage(await request(server, 'POST', '/users/logout', { cookie, headers: { 'content-type': 'application/json' } }));
  expectError(await me(cookie), 401);
});

test('logout with a cross-site Origin answers 403 bad_origin and keeps the session', async () => {
  const cookie = await loginOk(server, user);
  for (const origin of ['http://evil.example', 'null', `${server.url}.evil.example`, server.url.replace('127.0.0.1', 'localhost'), 'https://127.0.0.1:' + server.port]) {
    const r = await logout(cookie, { origin });
    expectError(r, 403, 'bad_origin');
    assert.deepEqual(r.headers.getSetCookie(), [], 'no removal cookie');
  }
  assert.equal((await me(cookie)).status, 200, 'the session still works');
});

test('logout with the server\'s own Origin is allowed', async () => {
  const cookie = await loginOk(server, user);
  expectMessage(await logout(cookie, { origin: server.url }));
  expectError(await me(cookie), 401);
});

test('logout without an Origin header is allowed (server-side frontends relay cookies)', async () => {
  const cookie = await loginOk(server, user);
  expectMessage(await logout(cookie));
});

test('current-user (a GET) is not subject to the Origin check', async () => {
  const cookie = await loginOk(server, user);
  assert.equal((await me(cookie, { origin: 'http://evil.example' })).status, 200);
});

test('a configured extra origin and the frontend URL are accepted, others refused', async () => {
  const s = await startServer({ env: { GATEHOUSE_ALLOWED_ORIGINS: 'http://app.example', GATEHOUSE_FRONTEND_URL: 'http://front.example' } });
  const creds = await registerAndConfirm(s);
  for (const origin of ['http://app.example', 'http://front.example', s.url]) {
    const cookie = await loginOk(s, creds, { headers: { origin } });
    const r = await request(s, 'POST', '/users/logout/', { cookie, headers: { origin, 'content-type': 'application/json' } });
    expectMessage(r);
  }
  const cookie = await loginOk(s, creds);
  const r = await request(s, 'POST', '/users/logout/', { cookie, headers: { origin: 'http://evil.example', 'content-type': 'application/json' } });
  expectError(r, 403, 'bad_origin');
  const r2 = await post(s, '/users/login/', creds, { headers: { origin: 'http://app.example.evil' } });
  expectError(r2, 403, 'bad_origin');
  await s.stop();
});
