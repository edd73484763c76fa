// Hashes of other systems, stored as they are, verify at login and are replaced by the
// configured Argon2id after the first successful one. The hashes are made by their real
// producers — Django's make_password, argon2-cffi, passlib (Debian's python3-django,
// python3-argon2, python3-passlib) — never by gatehouse. Unusable `!` hashes and hashes with
// parameters beyond the bounds refuse every password like a wrong one, and the audit row says
// why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, login, loginOk, registerAndConfirm, sql, sqlQuote, expectError, PASSWORD,
} from '../support/server.js';
import { produceHashes } from '../support/legacy_hashes.js';

let server;
let hashes;
before(async () => {
  server = await startServer();
  hashes = produceHashes(PASSWORD, [
    { name: 'django-pbkdf2-sha256', producer: 'django', hasher: 'pbkdf2_sha256', iterations: 20000 },
    { name: 'django-pbkdf2-sha1', producer: 'django', hasher: 'pbkdf2_sha1', iterations: 10000 },
    { name: 'django-argon2', producer: 'django', hasher: 'argon2' },
    { name: 'argon2-cffi-p4', producer: 'argon2-cffi', t: 2, m: 8192, p: 4 },
    { name: 'passlib-pbkdf2-sha256', producer: 'passlib', hasher: 'django_pbkdf2_sha256', iterations: 3000 },
    { name: 'passlib-argon2', producer: 'passlib', hasher: 'argon2', t: 2, m: 8192, p: 2 },
    { name: 'django-unusable', producer: 'django', hasher: 'unusable' },
    { name: 'django-pbkdf2-beyond', producer: 'django', hasher: 'pbkdf2_sha256', iterations: 999 },
  ]);
});
after(cleanup);

const hashOf = (email) => sql(server.dataDir, `SELECT password_hash FROM users WHERE email = ${sqlQuote(email)}`)[0].password_hash;
const setHash = (email, hash) => sql(server.dataDir, `UPDATE users SET password_hash = ${sqlQuote(hash)} WHERE email = ${sqlQuote(email)}`);
const lastAudit = (email) => sql(server.dataDir, `SELECT event, detail FROM audit_log WHERE email = ${sqlQuote(email)} ORDER BY id DESC LIMIT 1`)[0];

for (const name of ['django-pbkdf2-sha256', 'django-pbkdf2-sha1', 'django-argon2', 'argon2-cffi-p4', 'passlib-pbkdf2-sha256', 'passlib-argon2']) {
  test(`a ${name} hash logs in with its password and is upgraded to Argon2id`, async () => {
    const { email } = await registerAndConfirm(server);
    setHash(email, hashes[name]);
    expectError((await login(server, { email, password: `${PASSWORD}x` })).r, 401, 'invalid_credentials');
    assert.equal(hashOf(email), hashes[name], 'a failed login leaves the hash');
    await loginOk(server, { email, password: PASSWORD });
    assert.match(hashOf(email), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await loginOk(server, { email, password: PASSWORD });
  });
}

test('an unusable hash and one beyond the bounds refuse the right password like a wrong one; the audit says why', async () => {
  for (const [name, reason] of [['django-unusable', 'unusable password'], ['django-pbkdf2-beyond', 'hash parameters out of bounds']]) {
    const { email } = await registerAndConfirm(server);
    setHash(email, hashes[name]);
    const wrong = (await login(server, { email, password: `${PASSWORD}x` })).r;
    const right = (await login(server, { email, password: PASSWORD })).r;
    expectError(right, 401, 'invalid_credentials');
    assert.equal(right.text, wrong.text);
    assert.deepEqual(lastAudit(email), { event: 'login_failure', detail: `password reset required: ${reason}` });
    assert.equal(hashOf(email), hashes[name]);
  }
});
