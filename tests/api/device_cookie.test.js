// Device cookies: a browser that has logged in to an account gets a signed cookie on its next
// current-user call (the login answer carries only the session cookie), so its failed logins
// are counted on their own and an attacker cannot lock it out (see ratelimit.test.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, cleanup, get, post, sql, registerAndConfirm, loginOk, deviceCookie, makeDataDir,
  storageDump, singleSetCookie,
} from '../support/server.js';

let server;
let user;
before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const me = (cookie) => get(server, '/users/current-user/', { cookie });

/** Logs in and calls current-user once; returns {session, device} cookies (name=value). */
async function loginWithDevice(s, creds) {
  const session = await loginOk(s, creds);
  const r = await get(s, '/users/current-user/', { cookie: session });
  assert.equal(r.status, 200, r.text);
  const device = deviceCookie(r);
  assert.ok(device, `a device cookie: ${JSON.stringify(r.headers.getSetCookie())}`);
  return { session, device };
}

test('current-user gives a browser its device cookie: long-lived, HttpOnly, SameSite=Lax, Path=/', async () => {
  const session = await loginOk(server, user);
  const r = await me(session);
  const sc = r.headers.getSetCookie();
  assert.equal(sc.length, 1, JSON.stringify(sc));
  const [pair, ...attrs] = sc[0].split(';').map((a) => a.trim());
  assert.match(pair, /^gh_device=[A-Za-z0-9._-]+$/);
  assert.doesNotMatch(pair.slice('gh_device='.length), /[=;,% ]/);
  const lower = attrs.map((a) => a.toLowerCase());
  assert.ok(lower.includes('httponly'), sc[0]);
  assert.ok(lower.includes('samesite=lax'), sc[0]);
  assert.ok(lower.includes('path=/'), sc[0]);
  assert.ok(!lower.includes('secure'), `no Secure on http: ${sc[0]}`);
  const maxAge = attrs.find((a) => /^max-age=/i.test(a));
  assert.ok(maxAge && Number(maxAge.split('=')[1]) >= 300 * 86400, `about a year: ${sc[0]}`);
});

test('a browser that has its device cookie gets no new one', async () => {
  const { session, device } = await loginWithDevice(server, user);
  for (let i = 0; i < 3; i++) assert.deepEqual((await me(`${session}; ${device}`)).headers.getSetCookie(), []);
  // a new login of the same browser keeps it too
  const again = await loginOk(server, user, { cookie: device });
  assert.deepEqual((await me(`${again}; ${device}`)).headers.getSetCookie(), []);
});

test('a device cookie of another account, a tampered or a malformed one is replaced', async () => {
  const other = await registerAndConfirm(server);
  const { device: othersDevice } = await loginWithDevice(server, other);
  const session = await loginOk(server, user);
  const value = othersDevice.slice('gh_device='.length);
  const at = value.length - 10; // a character of the signature
  const flipped = value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
  for (const presented of [othersDevice, `gh_device=${flipped}`, 'gh_device=garbage', 'gh_device=1.99999999999.x.y']) {
    const r = await me(`${session}; ${presented}`);
    const fresh = deviceCookie(r);
    assert.ok(fresh && fresh !== presented, `replaced: ${presented}`);
  }
});

test('the login answer carries only the session cookie, with or without a device cookie', async () => {
  const { device } = await loginWithDevice(server, user);
  for (const cookie of [undefined, device]) {
    const login = await post(server, '/users/login/', user, { cookie });
    assert.equal(login.status, 200, login.text);
    assert.ok(singleSetCookie(login).startsWith('sessionid='));
  }
});

test('with an https public URL the device cookie is Secure', async () => {
  const s = await startServer({ env: { GATEHOUSE_PUBLIC_URL: 'https://auth.example' } });
  const creds = await registerAndConfirm(s);
  const session = await loginOk(s, creds);
  const r = await get(s, '/users/current-user/', { cookie: session });
  const sc = r.headers.getSetCookie().find((c) => c.startsWith('gh_device='));
  assert.ok(sc && sc.split(';').map((a) => a.trim().toLowerCase()).includes('secure'), sc);
  await s.stop();
});

test('the signing key lives in the database, survives a restart and is in no file', async () => {
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const creds = await registerAndConfirm(first);
  const { device } = await loginWithDevice(first, creds);
  const rows = sql(dataDir, "SELECT name, value FROM server_secrets WHERE name = 'device_cookie_key'");
  assert.equal(rows.length, 1, JSON.stringify(rows.map((r) => r.name)));
  assert.match(rows[0].value, /^[0-9a-f]{64}$/);
  await first.stop();
  const second = await startServer({ dataDir });
  const session = await loginOk(second, creds);
  assert.deepEqual((await get(second, '/users/current-user/', { cookie: `${session}; ${device}` })).headers.getSetCookie(), [],
    'the cookie signed before the restart is still valid');
  assert.equal(sql(dataDir, "SELECT value FROM server_secrets WHERE name = 'device_cookie_key'")[0].value, rows[0].value, 'the key was not replaced');
  await second.stop();
  // the key is nowhere in the data directory but the database
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/gatehouse\.db/.test(name)) files.push(p);
    }
  };
  walk(dataDir);
  for (const f of files) assert.ok(!readFileSync(f, 'latin1').includes(rows[0].value), `key found in ${f}`);
  assert.ok(storageDump(dataDir).includes(rows[0].value));
});

test('a session yields one device: cookies it is given again share their failure count', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const creds = await registerAndConfirm(s);
  const session = await loginOk(s, creds);
  const first = deviceCookie(await get(s, '/users/current-user/', { cookie: session }));
  await new Promise((r) => setTimeout(r, 1100)); // a later expiry, so the cookie text differs
  const second = deviceCookie(await get(s, '/users/current-user/', { cookie: session }));
  assert.ok(first && second && first !== second);
  assert.equal(first.split('.')[2], second.split('.')[2], 'the same nonce');
  for (let i = 0; i < 3; i++) {
    const r = await post(s, '/users/login/', { email: creds.email, password: 'not the right password' }, { cookie: first });
    assert.equal(r.status, 401, r.text);
  }
  const r = await post(s, '/users/login/', creds, { cookie: second });
  assert.equal(r.status, 429, `the second cookie is the same device: ${r.text}`);
  // another session of the same account is another device
  const other = await loginOk(s, creds, { from: '127.0.0.2' });
  const third = deviceCookie(await get(s, '/users/current-user/', { cookie: other }));
  assert.notEqual(third.split('.')[2], first.split('.')[2]);
  assert.equal((await post(s, '/users/login/', creds, { cookie: third })).status, 200);
  await s.stop();
});
