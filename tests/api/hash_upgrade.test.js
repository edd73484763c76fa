// A login upgrades a hash made with other Argon2 parameters than the server's. The upgrade must
// never overwrite a password changed while it hashed: the change wins, the old password stops
// working. The server here hashes with costly parameters and the account's hash is cheap, so
// every login hashes for a while after its check; a password change is started just before each
// login, so that, without the compare-and-set of the upgrade, the login's write would land after
// the change's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  GATEHOUSE_BIN, startServer, cleanup, post, login, loginOk, randomEmail, sql, sqlQuote, sleep,
  PASSWORD,
} from '../support/server.js';

const COSTLY = { GATEHOUSE_ARGON2_MEMORY_KIB: '65536', GATEHOUSE_ARGON2_ITERATIONS: '3' };
const CHEAP = { GATEHOUSE_ARGON2_MEMORY_KIB: '8192', GATEHOUSE_ARGON2_ITERATIONS: '1' };

let server;
before(async () => { server = await startServer({ env: { ...COSTLY, GATEHOUSE_HASH_THREADS: '2' } }); });
after(cleanup);

const hashOf = (email) => sql(server.dataDir, `SELECT password_hash FROM users WHERE email = ${sqlQuote(email)}`)[0].password_hash;

/** An active account whose hash was made with CHEAP parameters (by `gatehouse user create`). */
function cheapAccount() {
  const email = randomEmail('upgrade');
  const r = spawnSync(GATEHOUSE_BIN, ['user', 'create', '--email', email], {
    env: { ...server.env, ...CHEAP }, cwd: server.dataDir, input: `${PASSWORD}\n`, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const hash = hashOf(email);
  assert.match(hash, /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
  return { email, hash };
}

test('a login upgrades an old hash to the configured parameters', async () => {
  const { email, hash } = cheapAccount();
  await loginOk(server, { email, password: PASSWORD });
  const upgraded = hashOf(email);
  assert.notEqual(upgraded, hash);
  assert.match(upgraded, /^\$argon2id\$v=19\$m=65536,t=3,p=1\$/);
  await loginOk(server, { email, password: PASSWORD });
});

test('a password change during the upgrade of a login wins: the new password logs in, the old does not', async () => {
  const { email, hash } = cheapAccount();
  const cookie = await loginOk(server, { email, password: PASSWORD });
  const ROUNDS = 12;
  for (let i = 0; i < ROUNDS; i++) {
    // The stored hash is the cheap one of PASSWORD again, so the next login upgrades it.
    sql(server.dataDir, `UPDATE users SET password_hash = ${sqlQuote(hash)} WHERE email = ${sqlQuote(email)}`);
    const next = `another fine passphrase ${randomBytes(6).toString('hex')}`;
    const changed = post(server, '/users/change-password/', { current_password: PASSWORD, new_password: next }, { cookie });
    await sleep(2 + (i % 4) * 8); // the change checks the password first, then both hash
    const loggedIn = login(server, { email, password: PASSWORD });
    const [c, { r: l }] = await Promise.all([changed, loggedIn]);
    assert.equal(c.status, 200, `round ${i}: change ${c.text}`);
    assert.ok([200, 401].includes(l.status), `round ${i}: login ${l.text}`);
    assert.equal((await login(server, { email, password: next })).r.status, 200, `round ${i}: the new password logs in`);
    assert.equal((await login(server, { email, password: PASSWORD })).r.status, 401, `round ${i}: the old password does not`);
  }
});
