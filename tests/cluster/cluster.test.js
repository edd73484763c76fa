// Scale-out: two gatehouse processes on one PostgreSQL (+ Redis) behave as one — sessions, limits,
// one-time links, mail, the token API's refresh-token rotation and signing keys, and a provider
// login that starts on one and comes back to the other — and a database or Redis outage answers
// 503 quickly and heals without a restart, losing nothing committed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  startServer, cleanup, get, post, request, expectError, registerAndConfirm, register, login,
  confirmationLink, randomEmail, sleep, waitUntil, updateUser, PASSWORD, GATEHOUSE_BIN,
} from '../support/server.js';
import { startPostgres, PG_BIN } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { startSmtpSink } from '../support/smtp.js';
import { startOidcProvider, Browser, walkToCallback, providerEnv } from '../support/oidc.js';

// The address both instances are known by, as behind a load balancer: the provider sends the
// browser back there, and the test hands the callback to the instance it chooses.
const SHARED_URL = 'http://gatehouse.cluster.test';

let pg;
let redis;
let op; // a real OpenID Provider with one client for the shared address
let opClient;
let dbCount = 0;
let redisDb = 0;

before(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  op = await startOidcProvider();
  opClient = op.newClient();
  await opClient.register([`${SHARED_URL}/oauth/op/callback/`]);
});

after(async () => {
  await cleanup();
  if (op) await op.stop();
  if (redis) await redis.stop();
  if (pg) await pg.stop();
});

/** Settings for a fresh shared backend: one new database, and one Redis db when wanted. */
async function sharedBackend({ withRedis }) {
  const name = `cluster_${process.pid}_${++dbCount}`;
  await pg.createDatabase(name);
  const env = { DATABASE_URL: pg.url(name) };
  if (withRedis) env.REDIS_URL = redis.url(++redisDb);
  return env;
}

/** A shared backend for the token API: the instances also share the public URL, as behind one
 * load balancer, since it is the iss and aud of their access tokens. */
async function tokenBackend({ withRedis }) {
  return { ...(await sharedBackend({ withRedis })), GATEHOUSE_PUBLIC_URL: 'http://gatehouse.cluster.test' };
}

/** Two instances on the same backend settings. */
async function pair(env) {
  const a = await startServer({ env });
  const b = await startServer({ env });
  return [a, b];
}

/** Rows of a query on the database at url, as objects. */
function pgRows(url, query) {
  const out = execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url,
    '-c', `SELECT coalesce(json_agg(t), '[]') FROM (${query}) t`], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** A token pair from POST /api/token/ on s. */
async function tokenPair(s, creds) {
  const r = await post(s, '/api/token/', { email: creds.email, password: creds.password });
  assert.equal(r.status, 200, `obtain: ${r.status} ${r.text}`);
  return r.body;
}

/** Runs one statement on the database at url, as an operator would with psql. */
function pgExec(url, statement) {
  execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', statement], { stdio: 'pipe' });
}

const kidOf = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).kid;

/** A SimpleJWT-shaped 401 token_not_valid. */
function expectTokenNotValid(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.body.code, 'token_not_valid', what);
}

function pgCtl(args) {
  execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...args], { stdio: 'pipe' });
}

function stopPostgresKeepingData() {
  pgCtl(['stop', '-D', join(pg.dir, 'data'), '-m', 'fast', '-w']);
}

function restartPostgres() {
  const opts = `-p ${pg.port} -k ${pg.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400`;
  pgCtl(['start', '-D', join(pg.dir, 'data'), '-l', join(pg.dir, 'postgres.log'), '-w', '-o', opts]);
}

function redisPid() {
  return execFileSync('pgrep', ['-f', `redis-server 127.0.0.1:${redis.port}`], { encoding: 'utf8' }).trim().split('\n')[0];
}

/** A request must be answered (not hang) within limitMs: returns the answer and the time. */
async function timed(fn, limitMs = 5000) {
  const started = Date.now();
  const r = await Promise.race([
    fn(),
    sleep(limitMs).then(() => { throw new Error(`no answer within ${limitMs} ms`); }),
  ]);
  return { r, ms: Date.now() - started };
}

for (const withRedis of [false, true]) {
  const label = withRedis ? 'PostgreSQL + Redis' : 'PostgreSQL';

  test(`${label}: a session created on A works on B, and a logout on B is refused on A`, async () => {
    const [a, b] = await pair(await sharedBackend({ withRedis }));
    const creds = await registerAndConfirm(a);
    const { cookie } = await login(a, creds);
    assert.ok(cookie);
    const onB = await get(b, '/users/current-user/', { cookie });
    assert.equal(onB.status, 200, onB.text);
    assert.equal(onB.body.email, creds.email);
    assert.equal((await post(b, '/users/logout/', undefined, { cookie })).status, 200);
    expectError(await get(a, '/users/current-user/', { cookie }), 401, 'not_authenticated');
  });

  test(`${label}: a profile change on A is seen by the very next request on B`, async () => {
    const [a, b] = await pair(await sharedBackend({ withRedis }));
    const creds = await registerAndConfirm(a, { first_name: 'Ada', last_name: 'Lovelace' });
    const { cookie } = await login(a, creds);
    assert.equal((await get(b, '/users/current-user/', { cookie })).body.first_name, 'Ada');
    const changed = await updateUser(a, cookie, { first_name: 'Grace', phone_number: '+4915112345678' });
    assert.equal(changed.status, 200, changed.text);
    const onB = await get(b, '/users/current-user/', { cookie });
    assert.equal(onB.status, 200, onB.text);
    assert.equal(onB.body.first_name, 'Grace');
    assert.equal(onB.body.profile.phone_number, '+4915112345678');
  });

  test(`${label}: a password change on A ends the user's other sessions for the very next request on B`, async () => {
    const [a, b] = await pair(await sharedBackend({ withRedis }));
    const creds = await registerAndConfirm(a);
    const { cookie: caller } = await login(a, creds);
    const { cookie: other } = await login(b, creds);
    assert.equal((await get(b, '/users/current-user/', { cookie: other })).status, 200);
    const next = 'a brand new passphrase 77';
    const r = await post(a, '/users/change-password/', { current_password: creds.password, new_password: next }, { cookie: caller });
    assert.equal(r.status, 200, r.text);
    expectError(await get(b, '/users/current-user/', { cookie: other }), 401, 'not_authenticated');
    assert.equal((await get(b, '/users/current-user/', { cookie: caller })).status, 200, 'the caller keeps its session');
    assert.equal((await login(b, creds)).r.status, 401, 'the old password no longer logs in on B');
    assert.equal((await login(b, { ...creds, password: next })).r.status, 200, 'the new one does');
  });

  test(`${label}: a user deactivated in the database is refused by the very next request on either instance`, async () => {
    const env = await sharedBackend({ withRedis });
    const [a, b] = await pair(env);
    const creds = await registerAndConfirm(a);
    const { cookie } = await login(a, creds);
    const { access } = await tokenPair(b, creds);
    assert.equal((await get(a, '/users/current-user/', { cookie })).status, 200);
    assert.equal((await get(b, '/users/current-user/', { cookie })).status, 200);
    pgExec(env.DATABASE_URL, `UPDATE users SET is_active = false WHERE email = '${creds.email}'`);
    for (const s of [b, a]) {
      expectError(await get(s, '/users/current-user/', { cookie }), 401, 'not_authenticated');
      expectError(await get(s, '/users/current-user/', { headers: { authorization: `Bearer ${access}` } }), 401);
    }
    assert.notEqual((await login(b, creds)).r.status, 200, 'nor can the user log in again');
  });

  test(`${label}: a rate limit reached through A applies on B`, async () => {
    const env = { ...(await sharedBackend({ withRedis })), GATEHOUSE_RATE_IP_MAX: '4' };
    const a = await startServer({ env, defaultRateLimits: true });
    const b = await startServer({ env, defaultRateLimits: true });
    for (let i = 0; i < 4; i++) {
      expectError(await post(a, '/users/login/', { email: randomEmail(), password: PASSWORD }), 401);
    }
    const onB = await post(b, '/users/login/', { email: randomEmail(), password: PASSWORD });
    expectError(onB, 429, 'rate_limited');
    assert.match(onB.headers.get('retry-after') || '', /^\d+$/);
  });

  test(`${label}: a confirmation token issued by A is consumed once across A and B`, async () => {
    const [a, b] = await pair(await sharedBackend({ withRedis }));
    const email = randomEmail();
    await register(a, { email });
    const link = await confirmationLink(a, email);
    const path = link.slice(link.indexOf('/users/'));
    const answers = await Promise.all([a, b, a, b].map((s) => request(s, 'GET', path)));
    const confirmed = answers.filter((r) => /\/auth\/confirmed$/.test(r.headers.get('location') || ''));
    assert.equal(confirmed.length, 1, answers.map((r) => r.headers.get('location')).join('\n'));
    for (const r of answers) assert.equal(r.status, 303);
    assert.equal((await login(b, { email })).r.status, 200);
  });

  test(`${label}: a provider login started on A finishes on B, and its state is spent on both`, async () => {
    const env = {
      ...(await sharedBackend({ withRedis })),
      ...providerEnv({ op: { issuer: op.issuer, clientId: opClient.client_id, clientSecret: opClient.client_secret } }),
      GATEHOUSE_PUBLIC_URL: SHARED_URL,
    };
    const [a, b] = await pair(env);
    const email = randomEmail('cluster-op');
    const account = op.setAccount(`acct-${email}`, { email, given_name: 'Ada', family_name: 'Byron' });
    const browser = new Browser();
    const { callback } = await walkToCallback(browser, { url: a.url, publicUrl: SHARED_URL }, 'op', { account, next: '/done' });
    const path = callback.slice(SHARED_URL.length);
    const onB = await browser.fetch(`${b.url}${path}`);
    assert.equal(onB.status, 303, onB.text);
    assert.equal(onB.location, `${SHARED_URL}/done`);
    const set = onB.headers.getSetCookie();
    assert.equal(set.length, 1, JSON.stringify(set));
    const cookie = set[0].split(';')[0];
    assert.match(cookie, /^sessionid=/);
    for (const s of [a, b]) {
      const me = await get(s, '/users/current-user/', { cookie });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.email, email);
      assert.deepEqual(me.body.providers, ['op']);
    }
    // the state B consumed is gone for A too
    const again = await browser.fetch(`${a.url}${path}`);
    assert.equal(again.status, 303);
    assert.ok(again.location.startsWith(`${SHARED_URL}/auth/error?reason=`), again.location);
    assert.deepEqual(again.headers.getSetCookie(), []);
  });

  test(`${label}: mail queued through both instances is sent exactly once`, async () => {
    const sink = await startSmtpSink();
    try {
      const env = { ...(await sharedBackend({ withRedis })), GATEHOUSE_MAIL_URL: sink.url, GATEHOUSE_MAIL_RETRY_SECONDS: '1' };
      const [a, b] = await pair(env);
      const emails = Array.from({ length: 12 }, () => randomEmail());
      await Promise.all(emails.map((email, i) => register(i % 2 ? a : b, { email })));
      await waitUntil(() => sink.messages.length >= emails.length, { timeoutMs: 20000, what: 'all mails delivered' });
      await sleep(1500); // a duplicate would arrive now
      const recipients = sink.messages.map((m) => m.envelope.to[0]).sort();
      assert.deepEqual(recipients, [...emails].sort());
    } finally {
      await sink.stop();
    }
  });

  test(`${label}: a refresh token rotated on A and reused on B after the grace window revokes the family on both`, async () => {
    const env = { ...(await tokenBackend({ withRedis })), GATEHOUSE_REFRESH_GRACE_SECONDS: '1' };
    const [a, b] = await pair(env);
    const creds = await registerAndConfirm(a);
    const t = await tokenPair(a, creds);
    const userId = (await get(b, '/users/current-user/', { headers: { authorization: `Bearer ${t.access}` } })).body.id;
    const rotated = await post(a, '/api/token/refresh/', { refresh: t.refresh });
    assert.equal(rotated.status, 200, rotated.text);
    await sleep(2200); // past the grace window
    expectTokenNotValid(await post(b, '/api/token/refresh/', { refresh: t.refresh }), 'the reused token on B');
    // the whole family is revoked: the legitimate successor is refused on either instance
    expectTokenNotValid(await post(a, '/api/token/refresh/', { refresh: rotated.body.refresh }), 'the successor on A');
    expectTokenNotValid(await post(b, '/api/token/refresh/', { refresh: rotated.body.refresh }), 'the successor on B');
    const [family] = pgRows(env.DATABASE_URL, `SELECT count(*) AS tokens, count(revoked_at) AS revoked, count(DISTINCT family_id) AS families FROM refresh_tokens WHERE user_id = '${userId}'`);
    assert.deepEqual(family, { tokens: 2, revoked: 2, families: 1 });
    assert.ok(pgRows(env.DATABASE_URL, `SELECT 1 FROM audit_log WHERE event = 'refresh_token_reuse' AND user_id = '${userId}'`).length >= 1, 'the reuse is audited');
    // a new login starts a family that works on both
    const fresh = await tokenPair(b, creds);
    const next = await post(a, '/api/token/refresh/', { refresh: fresh.refresh });
    assert.equal(next.status, 200, next.text);
    assert.equal((await post(b, '/api/token/refresh/', { refresh: next.body.refresh })).status, 200);
  });

  test(`${label}: concurrent refreshes of one token on A and B get one successor`, async () => {
    const env = await tokenBackend({ withRedis });
    const [a, b] = await pair(env);
    const creds = await registerAndConfirm(a);
    const t = await tokenPair(b, creds);
    const answers = await Promise.all([a, b, a, b, a, b, a, b].map((s) => post(s, '/api/token/refresh/', { refresh: t.refresh })));
    for (const r of answers) assert.equal(r.status, 200, r.text);
    const successors = new Set(answers.map((r) => r.body.refresh));
    assert.equal(successors.size, 1, `one successor, got ${successors.size}`);
    const [successor] = successors;
    const userId = (await get(a, '/users/current-user/', { headers: { authorization: `Bearer ${answers[0].body.access}` } })).body.id;
    const [rows] = pgRows(env.DATABASE_URL, `SELECT count(*) AS tokens, count(rotated_at) AS rotated, count(revoked_at) AS revoked FROM refresh_tokens WHERE user_id = '${userId}'`);
    assert.deepEqual(rows, { tokens: 2, rotated: 1, revoked: 0 }, 'the token and its one successor, nothing revoked');
    const next = await post(b, '/api/token/refresh/', { refresh: successor });
    assert.equal(next.status, 200, next.text);
    assert.equal((await post(a, '/api/token/refresh/', { refresh: next.body.refresh })).status, 200);
  });

  test(`${label}: a key rotated through A's storage is in B's JWKS within the reload interval, then B signs with it`, async () => {
    const env = { ...(await tokenBackend({ withRedis })), GATEHOUSE_KEY_RELOAD_SECONDS: '1' };
    const [a, b] = await pair(env);
    const creds = await registerAndConfirm(a);
    const older = await tokenPair(a, creds);
    const oldKid = kidOf(older.access);
    assert.ok((await get(b, '/.well-known/jwks.json')).body.keys.some((k) => k.kid === oldKid), 'B publishes the key A signs with');
    assert.equal((await post(b, '/api/token/verify/', { token: older.access })).status, 200);

    const out = execFileSync(GATEHOUSE_BIN, ['keys', 'rotate'], { env: a.env, cwd: a.dataDir, encoding: 'utf8' });
    const rotatedAt = Date.now();
    const newKid = /kid=(\S+)/.exec(out)[1];
    assert.notEqual(newKid, oldKid);
    // B rereads the keys every second (whole seconds: at most 2 s after the rotation)
    await waitUntil(async () => (await get(b, '/.well-known/jwks.json')).body.keys.some((k) => k.kid === newKid),
      { timeoutMs: 3000, what: "the new key in B's JWKS" });
    const published = Date.now() - rotatedAt;
    // it signs from 2 × the reload interval after the rotation, on B as on A
    let refresh = older.refresh;
    const newer = await waitUntil(async () => {
      const r = await post(b, '/api/token/refresh/', { refresh });
      assert.equal(r.status, 200, r.text);
      refresh = r.body.refresh;
      return kidOf(r.body.access) === newKid ? r.body : (await sleep(200), null);
    }, { timeoutMs: 6000, what: 'B signing with the new key' });
    assert.ok(Date.now() - rotatedAt >= 1000, `B signed with the new key ${Date.now() - rotatedAt} ms after the rotation, published after ${published} ms`);
    // each instance accepts the other's tokens of either key
    for (const s of [a, b]) {
      for (const token of [older.access, newer.access]) {
        assert.equal((await post(s, '/api/token/verify/', { token })).status, 200);
        assert.equal((await get(s, '/users/current-user/', { headers: { authorization: `Bearer ${token}` } })).status, 200);
      }
      const kids = (await get(s, '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
      assert.ok(kids.includes(oldKid) && kids.includes(newKid), `both keys published: ${kids}`);
    }
    assert.equal(kidOf((await tokenPair(a, creds)).access), newKid, 'A signs with it too');
  });
}

test('PostgreSQL stopped: requests get 503 JSON quickly, /ready reports it, and gatehouse recovers without a restart', async () => {
  const env = await sharedBackend({ withRedis: false });
  const s = await startServer({ env });
  const creds = await registerAndConfirm(s);
  const { cookie } = await login(s, creds);
  stopPostgresKeepingData();
  try {
    const { r: cu, ms } = await timed(() => get(s, '/users/current-user/', { cookie }));
    expectError(cu, 503);
    assert.ok(ms < 5000, `answered in ${ms} ms`);
    const ready = await get(s, '/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.database, 'unavailable');
    const { r: reg } = await timed(() => post(s, '/users/register/', { email: randomEmail(), password: PASSWORD, first_name: 'A', last_name: 'B' }));
    expectError(reg, 503);
    assert.equal((await get(s, '/health-check/')).status, 200, 'the process is alive');
  } finally {
    restartPostgres();
  }
  await waitUntil(async () => (await get(s, '/ready')).status === 200, { timeoutMs: 15000, what: 'ready again' });
  const again = await get(s, '/users/current-user/', { cookie });
  assert.equal(again.status, 200, again.text);
  assert.equal((await login(s, creds)).r.status, 200, 'the account committed before the outage is there');
  const later = await registerAndConfirm(s);
  assert.equal((await login(s, later)).r.status, 200);
});

test('Redis stopped: requests get 503 JSON quickly, /ready reports it, and gatehouse recovers without a restart', async () => {
  const env = await sharedBackend({ withRedis: true });
  const s = await startServer({ env });
  const creds = await registerAndConfirm(s);
  const { cookie } = await login(s, creds);
  const pid = redisPid();
  process.kill(Number(pid), 'SIGSTOP'); // Redis stops answering; connections hang, as in a real outage
  try {
    const { r: cu, ms } = await timed(() => get(s, '/users/current-user/', { cookie }));
    expectError(cu, 503);
    assert.ok(ms < 5000, `answered in ${ms} ms`);
    const ready = await get(s, '/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.kv, 'unavailable');
    assert.equal(ready.body.database, 'ok');
    const { r: li } = await timed(() => post(s, '/users/login/', creds));
    expectError(li, 503);
  } finally {
    process.kill(Number(pid), 'SIGCONT');
  }
  await waitUntil(async () => (await get(s, '/ready')).status === 200, { timeoutMs: 15000, what: 'ready again' });
  const again = await get(s, '/users/current-user/', { cookie });
  assert.equal(again.status, 200, 'the session stored before the outage still works');
  assert.equal((await login(s, creds)).r.status, 200);
});
