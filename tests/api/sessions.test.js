// GET /users/sessions/ and DELETE /users/sessions/{id}/: a user sees and revokes their own
// live sessions, never anyone else's; lifetimes (absolute and idle) end sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  startServer, sessionRows, updateSession, cleanup, request, get, expectError, expectMessage, assertJsonContentType,
  registerAndConfirm, loginOk, cookieValue, sql, sqlQuote, sleep, assertNothingLost,
} from '../support/server.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;


let server;
let user; // an account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const list = (cookie, s = server) => get(s, '/users/sessions/', { cookie });
const revoke = (cookie, id, headers = {}, s = server) => request(s, 'DELETE', `/users/sessions/${id}/`, { cookie, headers });
const me = (cookie, s = server) => get(s, '/users/current-user/', { cookie });
const ua = (what) => `sessions-test/${what}-${randomBytes(4).toString('hex')}`;

/** GET /users/sessions/ and assert 200 with a sessions array; resolves with it. */
async function sessionsOf(cookie, s = server) {
  const r = await list(cookie, s);
  assert.equal(r.status, 200, `sessions: ${r.status} ${r.text}`);
  assertJsonContentType(r);
  assert.deepEqual(Object.keys(r.body), ['sessions']);
  assert.ok(Array.isArray(r.body.sessions));
  return r.body.sessions;
}

/** A fresh user logged in `n` times with distinct User-Agents: {creds, logins: [{cookie, ua}]}. */
async function userWithSessions(n, s = server) {
  const creds = await registerAndConfirm(s);
  const logins = [];
  for (let i = 0; i < n; i++) {
    const agent = ua(`login${i}`);
    logins.push({ ua: agent, cookie: await loginOk(s, creds, { headers: { 'user-agent': agent } }) });
    if (i < n - 1) await sleep(1100); // distinct created_at seconds, so "newest first" is observable
  }
  return { creds, logins };
}

test('the list holds the caller\'s live sessions with id, times, user agent, ip and current', async () => {
  const { logins } = await userWithSessions(2);
  const sessions = await sessionsOf(logins[1].cookie);
  assert.equal(sessions.length, 2);
  for (const s of sessions) {
    assert.deepEqual(Object.keys(s).sort(), ['created_at', 'current', 'id', 'ip', 'last_seen_at', 'user_agent']);
    assert.match(s.id, UUID_RE);
    assert.match(s.created_at, RFC3339_Z);
    assert.match(s.last_seen_at, RFC3339_Z);
    assert.ok(Math.abs(Date.parse(s.created_at) - Date.now()) < 10 * 60 * 1000, `created_at ${s.created_at} is about now`);
    assert.ok(Date.parse(s.last_seen_at) >= Date.parse(s.created_at));
    assert.equal(s.ip, '127.0.0.1');
    assert.equal(typeof s.current, 'boolean');
  }
  assert.deepEqual(sessions.map((s) => s.user_agent), [logins[1].ua, logins[0].ua], 'newest first, each with its User-Agent');
  assert.deepEqual(sessions.map((s) => s.current), [true, false], 'only the caller\'s own session is current');
  // seen from the other session, the other one is current
  const fromFirst = await sessionsOf(logins[0].cookie);
  assert.deepEqual(fromFirst.map((s) => [s.user_agent, s.current]), [[logins[1].ua, false], [logins[0].ua, true]]);
  assert.equal(new Set(sessions.map((s) => s.id)).size, 2, 'ids are distinct');
});

test('the list answers with no-store caching', async () => {
  const { logins } = await userWithSessions(1);
  const r = await list(logins[0].cookie);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('cache-control') || '', /no-store/);
});

test('the list never shows another user\'s sessions', async () => {
  const a = await userWithSessions(1);
  const b = await userWithSessions(2);
  const mine = await sessionsOf(a.logins[0].cookie);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].user_agent, a.logins[0].ua);
  assert.equal(mine[0].current, true);
  const theirs = await sessionsOf(b.logins[0].cookie);
  assert.ok(!theirs.some((s) => s.id === mine[0].id));
});

test('the list never holds a token, a token hash or the cookie value', async () => {
  const { logins } = await userWithSessions(2);
  const r = await list(logins[0].cookie);
  assert.equal(r.status, 200);
  const keysDeep = JSON.stringify(r.body, (k, v) => v);
  for (const k of ['token', 'token_hash', 'session_token', 'sessionid', 'expires_at_hash']) {
    assert.ok(!new RegExp(`"${k}"`).test(keysDeep), `no ${k} key`);
  }
  for (const { cookie } of logins) assert.ok(!r.text.includes(cookieValue(cookie)), 'no cookie value in the list');
  const hashes = sessionRows(server.dataDir).map((x) => x.token_hash);
  assert.ok(hashes.length >= logins.length);
  for (const h of hashes) assert.ok(!r.text.includes(h), 'no token hash in the list');
});

test('a logged-out session is no longer listed', async () => {
  const { logins } = await userWithSessions(2);
  expectMessage(await request(server, 'POST', '/users/logout/', { cookie: logins[0].cookie }));
  const sessions = await sessionsOf(logins[1].cookie);
  assert.deepEqual(sessions.map((s) => s.user_agent), [logins[1].ua]);
});

test('deleting a second session answers 200; that cookie gets 401, the caller\'s still works', async () => {
  const { logins } = await userWithSessions(2);
  const [other] = (await sessionsOf(logins[1].cookie)).filter((s) => !s.current);
  assert.equal(other.user_agent, logins[0].ua);
  expectMessage(await revoke(logins[1].cookie, other.id));
  expectError(await me(logins[0].cookie), 401, 'not_authenticated');
  assert.equal((await me(logins[1].cookie)).status, 200);
  const left = await sessionsOf(logins[1].cookie);
  assert.deepEqual(left.map((s) => s.id), left.filter((s) => s.current).map((s) => s.id));
  assert.equal(left.length, 1);
  // a second delete of the same id: it is no longer a live session
  expectError(await revoke(logins[1].cookie, other.id), 404, 'not_found');
});

test('deleting another user\'s session id answers 404 not_found and that session still works', async () => {
  const a = await userWithSessions(1);
  const b = await userWithSessions(1);
  const [victim] = await sessionsOf(b.logins[0].cookie);
  const r = await revoke(a.logins[0].cookie, victim.id);
  expectError(r, 404, 'not_found');
  assert.equal((await me(b.logins[0].cookie)).status, 200, 'the other user\'s session survives');
  assert.equal((await me(a.logins[0].cookie)).status, 200);
});

test('an unknown or garbage session id answers 404 not_found', async () => {
  const { logins } = await userWithSessions(1);
  const cookie = logins[0].cookie;
  const [own] = await sessionsOf(cookie);
  for (const id of [randomUUID(), '00000000-0000-0000-0000-000000000000', 'garbage', `${own.id}x`, '%27%20OR%201%3D1--', 'x'.repeat(2000), cookieValue(cookie)]) {
    expectError(await revoke(cookie, id), 404, 'not_found');
  }
  assert.equal((await me(cookie)).status, 200, 'nothing was revoked');
  assert.equal((await sessionsOf(cookie)).length, 1);
});

test('a session id is matched as listed (lowercase): an uppercased id answers 404 on every backend', async () => {
  const { logins } = await userWithSessions(1);
  const cookie = logins[0].cookie;
  const [own] = await sessionsOf(cookie);
  expectError(await revoke(cookie, own.id.toUpperCase()), 404, 'not_found');
  assert.equal((await me(cookie)).status, 200, 'nothing was revoked');
});

test('deleting the caller\'s own current session works, after which the cookie gets 401', async () => {
  const { logins } = await userWithSessions(1);
  const [own] = await sessionsOf(logins[0].cookie);
  assert.equal(own.current, true);
  expectMessage(await revoke(logins[0].cookie, own.id));
  expectError(await me(logins[0].cookie), 401, 'not_authenticated');
  expectError(await list(logins[0].cookie), 401, 'not_authenticated');
});

test('without a session both routes answer 401 not_authenticated', async () => {
  const { logins } = await userWithSessions(1);
  const [own] = await sessionsOf(logins[0].cookie);
  expectError(await list(), 401, 'not_authenticated');
  expectError(await list('sessionid=garbage'), 401, 'not_authenticated');
  expectError(await revoke(undefined, own.id), 401, 'not_authenticated');
  expectError(await revoke('sessionid=garbage', own.id), 401, 'not_authenticated');
  assert.equal((await me(logins[0].cookie)).status, 200);
});

test('wrong methods answer 405 with Allow', async () => {
  const { logins } = await userWithSessions(1);
  const cookie = logins[0].cookie;
  const [own] = await sessionsOf(cookie);
  for (const [method, path, allow] of [
    ['POST', '/users/sessions/', 'GET'],
    ['DELETE', '/users/sessions/', 'GET'],
    ['GET', `/users/sessions/${own.id}/`, 'DELETE'],
    ['POST', `/users/sessions/${own.id}/`, 'DELETE'],
  ]) {
    const r = await request(server, method, path, { cookie, body: method === 'GET' ? undefined : '{}', headers: method === 'GET' ? {} : { 'content-type': 'application/json' } });
    expectError(r, 405, 'method_not_allowed');
    assert.match(r.headers.get('allow') || '', new RegExp(`\\b${allow}\\b`), `${method} ${path}: Allow ${r.headers.get('allow')}`);
  }
  assert.equal((await me(cookie)).status, 200);
});

test('both routes are served without the trailing slash too', async () => {
  const { logins } = await userWithSessions(2);
  const r = await get(server, '/users/sessions', { cookie: logins[1].cookie });
  assert.equal(r.status, 200, r.text);
  const other = r.body.sessions.find((s) => !s.current);
  expectMessage(await request(server, 'DELETE', `/users/sessions/${other.id}`, { cookie: logins[1].cookie }));
  expectError(await me(logins[0].cookie), 401);
});

test('a cross-site Origin on DELETE is refused with 403 bad_origin and revokes nothing', async () => {
  const { logins } = await userWithSessions(2);
  const other = (await sessionsOf(logins[1].cookie)).find((s) => !s.current);
  expectError(await revoke(logins[1].cookie, other.id, { origin: 'http://evil.example' }), 403, 'bad_origin');
  assert.equal((await me(logins[0].cookie)).status, 200);
  expectMessage(await revoke(logins[1].cookie, other.id, { origin: server.url }));
});

test('revoking a session is audited as session_revoked', async () => {
  const { creds, logins } = await userWithSessions(2);
  const other = (await sessionsOf(logins[1].cookie)).find((s) => !s.current);
  expectMessage(await revoke(logins[1].cookie, other.id));
  const userId = sql(server.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(creds.email)}`)[0].id;
  const rows = sql(server.dataDir, `SELECT * FROM audit_log WHERE event = 'session_revoked' AND user_id = ${sqlQuote(userId)}`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].ip, '127.0.0.1');
});

// ---------------------------------------------------------------- lifetimes

test('the absolute lifetime is GATEHOUSE_SESSION_TTL (default 24 h)', async () => {
  for (const [env, ttl] of [[{}, 86400], [{ GATEHOUSE_SESSION_TTL: '60' }, 60], [{ GATEHOUSE_SESSION_TTL: '3600' }, 3600]]) {
    const s = await startServer({ env });
    const creds = await registerAndConfirm(s);
    const agent = ua('ttl');
    await loginOk(s, creds, { headers: { 'user-agent': agent } });
    const [row] = sessionRows(s.dataDir, (x) => x.user_agent === agent);
    assert.equal(row.expires_at - row.created_at, ttl, `TTL with ${JSON.stringify(env)}`);
    await s.stop();
  }
});

test('a session past its absolute expiry answers 401 and is not listed', async () => {
  const { logins } = await userWithSessions(2);
  const [old] = sessionRows(server.dataDir, (x) => x.user_agent === logins[0].ua);
  updateSession(server.dataDir, old.id, { expires_at: Math.floor(Date.now() / 1000) - 1 });
  expectError(await me(logins[0].cookie), 401, 'not_authenticated');
  const sessions = await sessionsOf(logins[1].cookie);
  assert.ok(!sessions.some((s) => s.id === old.id), 'an expired session is not listed');
  expectError(await revoke(logins[1].cookie, old.id), 404, 'not_found');
});

test('with GATEHOUSE_SESSION_IDLE_TIMEOUT=2 a session unused for 3 s answers 401', async () => {
  const s = await startServer({ env: { GATEHOUSE_SESSION_IDLE_TIMEOUT: '2' } });
  const creds = await registerAndConfirm(s);
  const cookie = await loginOk(s, creds);
  assert.equal((await me(cookie, s)).status, 200, 'fresh session works');
  await sleep(3100);
  expectError(await me(cookie, s), 401, 'not_authenticated');
  // a new login works again
  const again = await loginOk(s, creds);
  assert.equal((await me(again, s)).status, 200);
  await s.stop();
});

test('without an idle timeout (the default) an unused session keeps working', async () => {
  const { logins } = await userWithSessions(1);
  await sleep(2100);
  assert.equal((await me(logins[0].cookie)).status, 200);
});

test('last_seen_at is not rewritten by requests within a minute', async () => {
  const { logins } = await userWithSessions(1);
  const { cookie } = logins[0];
  const seen = () => sessionRows(server.dataDir, (x) => x.user_agent === logins[0].ua)[0].last_seen_at;
  const first = seen();
  const listed = (await sessionsOf(cookie))[0].last_seen_at;
  for (let i = 0; i < 3; i++) {
    await sleep(1100);
    assert.equal((await me(cookie)).status, 200);
    await sessionsOf(cookie);
  }
  assert.equal(seen(), first, 'last_seen_at unchanged in the database');
  assert.equal((await sessionsOf(cookie))[0].last_seen_at, listed, 'last_seen_at unchanged in the list');
});

test('last_seen_at is updated when a request comes more than a minute after it', async () => {
  const { logins } = await userWithSessions(1);
  const { cookie } = logins[0];
  const row = () => sessionRows(server.dataDir, (x) => x.user_agent === logins[0].ua)[0];
  const old = row();
  updateSession(server.dataDir, old.id, { last_seen_at: old.last_seen_at - 120, created_at: old.created_at - 120 });
  const before = row().last_seen_at;
  assert.equal((await me(cookie)).status, 200);
  const after = row().last_seen_at;
  assert.ok(after > before && Math.abs(after - Date.now() / 1000) < 60, `last_seen_at ${before} → ${after}`);
});

test('after all the bad input the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
