// Scale-out: two gatehouse processes on one PostgreSQL (+ Redis) behave as one (a provider login
// may start on one and come back to the other), and a database or Redis outage answers 503
// quickly and heals without a restart, losing nothing committed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  startServer, cleanup, get, post, request, expectError, registerAndConfirm, register, login,
  confirmationLink, randomEmail, sleep, waitUntil, PASSWORD,
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

/** Two instances on the same backend settings. */
async function pair(env) {
  const a = await startServer({ env });
  const b = await startServer({ env });
  return [a, b];
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
