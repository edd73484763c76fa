// State lives in the data directory: a new process on the same directory continues where the
// old one stopped (pending confirmations, sessions, accounts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startServer, cleanup, makeDataDir, get, request, register, registerAndConfirm, confirmationLink,
  pathOf, loginOk, expectError, expectMessage, sql, sqlQuote, BACKEND, sleep,
} from '../support/server.js';
import { freePort } from '../support/ports.js';

after(cleanup);

test('SIGTERM stops the server with exit code 0', async () => {
  const s = await startServer();
  assert.equal((await get(s, '/health-check/')).status, 200);
  assert.equal(await s.stop(), 0);
});

test('a confirmation link mailed before a restart works after it, and so does login', async () => {
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const { email, password } = await register(first);
  const link = await confirmationLink(first, email);
  assert.equal(await first.stop(), 0);

  const second = await startServer({ dataDir });
  const r = await get(second, pathOf(link));
  assert.equal(r.status, 303, r.text);
  assert.equal(r.headers.get('location'), `${second.url}/auth/confirmed`);
  const cookie = await loginOk(second, { email, password });
  assert.equal((await get(second, '/users/current-user/', { cookie })).status, 200);
  await second.stop();
});

test('a session survives a restart, and a logout before it stays a logout', async () => {
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const creds = await registerAndConfirm(first);
  const kept = await loginOk(first, creds);
  const gone = await loginOk(first, creds);
  expectMessage(await request(first, 'POST', '/users/logout/', { cookie: gone }));
  assert.equal(await first.stop(), 0);

  const second = await startServer({ dataDir });
  const me = await get(second, '/users/current-user/', { cookie: kept });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.email, creds.email);
  expectError(await get(second, '/users/current-user/', { cookie: gone }), 401, 'not_authenticated');
  await second.stop();
});

test('a registered email stays taken after a restart', async () => {
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const { email } = await register(first);
  await first.stop();
  const again = { json: { email, password: 'another long passphrase', first_name: 'X', last_name: 'Y' } };
  // by default the answer is the one a new address gets, and nothing is created
  const second = await startServer({ dataDir });
  expectMessage(await request(second, 'POST', '/users/register/', again), 201);
  await second.stop();
  const rows = sql(dataDir, `SELECT first_name FROM users WHERE email = ${sqlQuote(email)}`);
  assert.deepEqual(rows.map((r) => r.first_name), ['Ada'], 'still the one account, unchanged');
  // with GATEHOUSE_REGISTER_REVEALS_EXISTING it says so
  const third = await startServer({ dataDir, env: { GATEHOUSE_REGISTER_REVEALS_EXISTING: 'true' } });
  expectError(await request(third, 'POST', '/users/register/', again), 409, 'email_taken');
  await third.stop();
});

test('a start waits for a PostgreSQL server that cannot be reached yet, then serves', async (t) => {
  if (BACKEND === 'sqlite') {
    t.skip('PostgreSQL only (an SQLite file is opened, not reached)');
    return;
  }
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const creds = await registerAndConfirm(first);
  await first.stop();

  // The database reachable only through a port that refuses connections for the first 3 s.
  const target = new URL(first.env.DATABASE_URL);
  const port = await freePort();
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const late = sleep(3000).then(() => new Promise((res) => relay.listen(port, '127.0.0.1', res)));
  try {
    const url = new URL(target);
    url.port = String(port);
    const started = Date.now();
    const second = await startServer({ dataDir, env: { DATABASE_URL: url.toString() } });
    assert.ok(Date.now() - started >= 2500, 'it served only once the database could be reached');
    assert.match(second.stderr(), /cannot be reached yet/);
    await loginOk(second, creds);
    assert.equal(await second.stop(), 0);
  } finally {
    await late;
    await new Promise((res) => relay.close(res));
  }
});
