// No account enumeration by timing while imported hashes remain: a known address whose hash is
// PBKDF2 with 600,000 iterations (Django's default since 4.2, made here by Django itself) costs
// far more to check than the dummy Argon2id of an unknown address, so every password check is
// padded to a floor while such hashes remain. The latencies of wrong-password logins of that
// account and of logins of unknown addresses are compared as distributions (a Mann-Whitney U
// test and a threshold guess, as bench/hostile.js does) — never against a wall-clock target.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, post, registerAndConfirm, sql, sqlQuote, randomEmail, loginOk, PASSWORD,
  waitUntil,
} from '../support/server.js';
import { produceHashes } from '../support/legacy_hashes.js';
import { mannWhitney, guessRate, median } from '../support/stats.js';

let server;
let legacy;
before(async () => {
  const first = await startServer();
  legacy = await registerAndConfirm(first);
  const { pbkdf2 } = produceHashes(PASSWORD, [{ name: 'pbkdf2', producer: 'django', hasher: 'pbkdf2_sha256', iterations: 600000 }]);
  sql(first.dataDir, `UPDATE users SET password_hash = ${sqlQuote(pbkdf2)} WHERE email = ${sqlQuote(legacy.email)}`);
  await first.stop();
  // the pad is decided right after start (and every minute after)
  server = await startServer({ dataDir: first.dataDir });
});
after(cleanup);

/** Milliseconds from sending a login to its whole answer, and its status. */
async function timedLogin(email, password) {
  const t0 = process.hrtime.bigint();
  const r = await post(server, '/users/login/', { email, password });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.status };
}

test('the server reports the pad in force right after start', async () => {
  const line = /1 password hashes of other schemes or costs remain; the costliest \(pbkdf2_sha256\)/;
  await waitUntil(() => line.test(server.stderr()), { what: 'the log line of the pad' });
});

test('wrong-password logins of a PBKDF2-600k account and logins of unknown addresses take the same time', async () => {
  const SAMPLES = 30;
  const known = [];
  const unknown = [];
  for (let i = 0; i < 3; i++) { await timedLogin(randomEmail('warm'), 'wrong password 123'); await timedLogin(legacy.email, 'wrong password 123'); }
  for (let i = 0; i < SAMPLES; i++) {
    const order = Math.random() < 0.5 ? [0, 1] : [1, 0]; // classes alternated, order at random
    for (const c of order) {
      const r = c === 0 ? await timedLogin(legacy.email, `wrong password ${i}`) : await timedLogin(randomEmail('nobody'), `wrong password ${i}`);
      assert.equal(r.status, 401);
      (c === 0 ? known : unknown).push(r.ms);
    }
  }
  const mw = mannWhitney(known, unknown);
  const guess = guessRate(known, unknown);
  const detail = `medians ${median(known).toFixed(1)} / ${median(unknown).toFixed(1)} ms, U test p=${mw.p.toExponential(2)}, guess ${(guess * 100).toFixed(0)}%`;
  assert.ok(mw.p > 0.001, `the distributions differ: ${detail}`);
  assert.ok(guess < 0.75, `the class is guessed from the time: ${detail}`);
});

test('the right password still logs in, and the hash is replaced by Argon2id', async () => {
  await loginOk(server, legacy);
  const [{ password_hash: hash }] = sql(server.dataDir, `SELECT password_hash FROM users WHERE email = ${sqlQuote(legacy.email)}`);
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});
