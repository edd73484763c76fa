// POST /users/change-password/: a signed-in user changes the password by giving the current
// one; every other session is revoked, the caller's stays, a notice mail is queued.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, cleanup, request, get, post, expectError, expectMessage, registerAndConfirm,
  loginOk, login, readMails, mailIsTo, waitUntil, assertNothingLost, expectRateLimited,
} from '../support/server.js';

const PATH = '/users/change-password/';

let server;
let user; // an account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const newPassword = () => `another fine passphrase ${randomBytes(6).toString('hex')}`;
const change = (cookie, body, opts = {}, s = server) => post(s, PATH, body, { ...opts, cookie });
const me = (cookie, s = server) => get(s, '/users/current-user/', { cookie });

async function freshSession(s = server) {
  const creds = await registerAndConfirm(s);
  return { ...creds, cookie: await loginOk(s, creds) };
}

test('a change answers 200; the caller\'s session stays, another session of the user is revoked', async () => {
  const { email, password, cookie } = await freshSession();
  const second = await loginOk(server, { email, password });
  const other = await freshSession(); // another user's session is untouched
  const next = newPassword();
  expectMessage(await change(cookie, { current_password: password, new_password: next }));
  assert.equal((await me(cookie)).status, 200, 'the caller\'s session still works');
  expectError(await me(second), 401, 'not_authenticated');
  assert.equal((await me(other.cookie)).status, 200);
});

test('after a change the new password logs in and the old one does not', async () => {
  const { email, password, cookie } = await freshSession();
  const next = newPassword();
  expectMessage(await change(cookie, { current_password: password, new_password: next }));
  await loginOk(server, { email, password: next });
  expectError((await login(server, { email, password })).r, 401, 'invalid_credentials');
});

test('a change queues a notice mail that does not hold the password', async () => {
  const { email, password, cookie } = await freshSession();
  const next = newPassword();
  expectMessage(await change(cookie, { current_password: password, new_password: next }));
  const mails = await waitUntil(() => {
    const m = readMails(server.dataDir).filter((x) => mailIsTo(x, email) && /changed/i.test(x.subject));
    return m.length ? m : null;
  }, { what: 'a password-changed mail' });
  assert.equal(mails.length, 1);
  assert.ok(!mails[0].raw.includes(next) && !mails[0].raw.includes(password));
});

test('a wrong current password is refused with 400 wrong_password and changes nothing', async () => {
  const { email, password, cookie } = await freshSession();
  const second = await loginOk(server, { email, password });
  const r = await change(cookie, { current_password: 'not my password at all', new_password: newPassword() });
  expectError(r, 400, 'wrong_password', 'current_password');
  assert.equal((await me(second)).status, 200, 'no session revoked');
  await loginOk(server, { email, password });
});

test('the current password is compared exactly (case and whitespace matter)', async () => {
  const { email, password, cookie } = await freshSession();
  for (const wrong of [password.toUpperCase(), ` ${password}`, `${password} `, password.slice(0, -1)]) {
    expectError(await change(cookie, { current_password: wrong, new_password: newPassword() }), 400, 'wrong_password', 'current_password');
  }
  await loginOk(server, { email, password });
});

const WEAK = {
  password_common: () => 'password1234',
  password_too_short: () => 'vq8!mzr-kp3',
  password_too_long: () => 'y'.repeat(129),
  password_contains_email: (email) => `so ${email.split('@')[0].toUpperCase()} it is`,
};
for (const [code, make] of Object.entries(WEAK)) {
  test(`a weak new password is refused with 400 ${code} naming new_password`, async () => {
    const { email, password, cookie } = await freshSession();
    expectError(await change(cookie, { current_password: password, new_password: make(email) }), 400, code, 'new_password');
    await loginOk(server, { email, password });
  });
}

test('without a session the answer is 401 not_authenticated', async () => {
  const body = { current_password: user.password, new_password: newPassword() };
  expectError(await change(undefined, body), 401, 'not_authenticated');
  expectError(await change('sessionid=garbage', body), 401, 'not_authenticated');
  await loginOk(server, user);
});

test('after logout the old cookie cannot change the password', async () => {
  const { email, password, cookie } = await freshSession();
  expectMessage(await post(server, '/users/logout/', {}, { cookie }));
  expectError(await change(cookie, { current_password: password, new_password: newPassword() }), 401, 'not_authenticated');
  await loginOk(server, { email, password });
});

test('missing fields, wrong types, unknown fields and malformed JSON are refused with 400', async () => {
  const { email, password, cookie } = await freshSession();
  const valid = { current_password: password, new_password: newPassword() };
  for (const field of Object.keys(valid)) {
    const body = { ...valid };
    delete body[field];
    const r = await change(cookie, body);
    expectError(r, 400, 'missing_field', field);
    assert.ok(r.body.error.includes(field), r.body.error);
    for (const bad of [42, true, ['x'], { a: 1 }]) expectError(await change(cookie, { ...valid, [field]: bad }), 400, 'wrong_type', field);
    expectError(await change(cookie, { ...valid, [field]: null }), 400, ['wrong_type', 'missing_field'], field);
  }
  expectError(await change(cookie, {}), 400, 'missing_field');
  expectError(await change(cookie, { ...valid, email: 'x@example.com' }), 400, 'unknown_field', 'email');
  for (const text of ['{', 'not json', '[]', '"x"', '', '{"current_password": "a",}']) {
    expectError(await request(server, 'POST', PATH, { cookie, body: text, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  }
  expectError(await request(server, 'POST', PATH, { cookie, body: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  expectError(await change(cookie, { ...valid, new_password: 'z'.repeat(70 * 1024) }), 413, 'body_too_large');
  // nothing changed
  assert.equal((await me(cookie)).status, 200);
  await loginOk(server, { email, password });
  await assertNothingLost(server, user);
});

test('a wrong method answers 405 with Allow: POST', async () => {
  const { cookie } = await freshSession();
  for (const method of ['GET', 'PATCH', 'DELETE']) {
    const r = await request(server, method, PATH, { cookie });
    expectError(r, 405, 'method_not_allowed');
    assert.match(r.headers.get('allow') || '', /\bPOST\b/);
  }
});

test('change-password without trailing slash is served identically', async () => {
  const { email, password, cookie } = await freshSession();
  const next = newPassword();
  expectMessage(await post(server, '/users/change-password', { current_password: password, new_password: next }, { cookie }));
  await loginOk(server, { email, password: next });
});

test('a cross-site Origin is refused with 403 bad_origin and changes nothing', async () => {
  const { email, password, cookie } = await freshSession();
  const r = await change(cookie, { current_password: password, new_password: newPassword() }, { headers: { origin: 'http://evil.example' } });
  expectError(r, 403, 'bad_origin');
  await loginOk(server, { email, password });
  const next = newPassword();
  expectMessage(await change(cookie, { current_password: password, new_password: next }, { headers: { origin: server.url } }));
  await loginOk(server, { email, password: next });
});

test('failed current-password checks per account are limited: 429 rate_limited with Retry-After', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '3' } });
  const { password, cookie } = await freshSession(s);
  for (let i = 0; i < 3; i++) {
    expectError(await change(cookie, { current_password: `wrong guess number ${i}`, new_password: newPassword() }, {}, s), 400, 'wrong_password');
  }
  expectRateLimited(await change(cookie, { current_password: 'wrong guess again', new_password: newPassword() }, {}, s), 15 * 60);
  expectRateLimited(await change(cookie, { current_password: password, new_password: newPassword() }, {}, s), 15 * 60);
  // the password is unchanged and the session still works
  assert.equal((await me(cookie, s)).status, 200);
  await s.stop();
});

test('change-password counts towards the per-IP limit of credential requests', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '4' } });
  const creds = await registerAndConfirm(s); // register: 1
  const cookie = await loginOk(s, creds); // login: 2
  const next = newPassword();
  expectMessage(await change(cookie, { current_password: creds.password, new_password: next }, {}, s)); // 3
  expectError(await change(cookie, { current_password: 'wrong guess', new_password: newPassword() }, {}, s), 400, 'wrong_password'); // 4
  expectRateLimited(await change(cookie, { current_password: next, new_password: newPassword() }, {}, s), 60);
  assert.equal((await me(cookie, s)).status, 200);
  await s.stop();
});

test('after all the bad input the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
