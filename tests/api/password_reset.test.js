// Password reset through the mail: request → mailed link → 303 to the frontend with a
// password-change token → POST the new password. Tokens are single use, expiring, hashed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, cleanup, request, get, post, expectError, expectMessage, sql, sqlQuote, storageDump, mailRequestsResolved,
  randomEmail, register, registerAndConfirm, confirmationLink, loginOk, login, readMails, mailIsTo,
  waitUntil, sleep, pathOf, tokenOf, assertNothingLost, assertCleanSentence,
  passwordResetLink, changeTokenOf, passwordChangeToken, expectRateLimited, RESET_LINK_PATH,
} from '../support/server.js';

const REQUEST = '/users/password-change/request-password-change/';
const CHANGE = '/users/password-change/change-user-password/';

let server;
let user; // an account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const newPassword = () => `a brand new passphrase ${randomBytes(6).toString('hex')}`;
const requestReset = (email, s = server) => post(s, REQUEST, { email });
const changePassword = (token, password, s = server) => post(s, CHANGE, { token, password });
const postJson = (path, text, headers = {}) =>
  request(server, 'POST', path, { body: text, headers: { 'content-type': 'application/json', ...headers } });

function resetMails(email, s = server) {
  return readMails(s.dataDir).filter((m) => mailIsTo(m, email) && (m.text || '').includes(RESET_LINK_PATH));
}

/** Assert a 303 to `${frontend}/auth/error?reason=<clean text>`. */
function expectErrorRedirect(r, frontend = server.url) {
  assert.equal(r.status, 303, `${r.status} ${r.text}`);
  const loc = r.headers.get('location') || '';
  const prefix = `${frontend}/auth/error?reason=`;
  assert.ok(loc.startsWith(prefix), `Location ${loc} should start with ${prefix}`);
  const raw = loc.slice(prefix.length);
  assert.ok(raw.length > 0, 'a reason is given');
  assert.doesNotMatch(raw, /[=&#+ ]/, `raw reason: ${raw}`);
  const reason = decodeURIComponent(raw);
  assertCleanSentence(reason, 'reason');
  if (reason.includes(' ')) assert.ok(raw.includes('%20'), `spaces are encoded as %20: ${raw}`);
  return reason;
}

// ---------------------------------------------------------------- request

test('request answers the same 200 for unknown, inactive and active addresses; only the active one gets a mail', async () => {
  const active = await registerAndConfirm(server);
  const { email: inactive } = await register(server);
  const unknown = randomEmail('nobody');
  const answers = [];
  for (const email of [unknown, inactive, active.email]) {
    const r = await requestReset(email);
    expectMessage(r);
    answers.push(r.text);
  }
  assert.equal(answers[0], answers[1]);
  assert.equal(answers[1], answers[2]);
  await passwordResetLink(server, active.email);
  await sleep(500); // give a wrongly queued mail time to be written
  assert.equal(resetMails(inactive).length, 0, 'no reset mail for an inactive account');
  assert.equal(resetMails(unknown).length, 0, 'no reset mail for an unknown address');
  await mailRequestsResolved(server.dataDir);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(unknown)}`)[0].n, 0);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(inactive)}`)[0].n, 1, 'only the confirmation mail');
});

test('the reset mail holds a link to this server on a line of its own', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(email));
  const link = await passwordResetLink(server, email);
  assert.ok(link.startsWith(`${server.url}${RESET_LINK_PATH}?token=`), link);
  tokenOf(link);
});

test('request matches the address case-insensitively and after trimming', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(`  ${email.toUpperCase()} `));
  await passwordResetLink(server, email);
});

test('a malformed email is refused with 400 invalid_email', async () => {
  for (const email of ['not-an-email', '@example.com', 'a@', 'a b@example.com', '', `${'a'.repeat(250)}@example.com`]) {
    expectError(await requestReset(email), 400, ['invalid_email', 'too_long'], 'email');
  }
  expectError(await requestReset('not-an-email'), 400, 'invalid_email', 'email');
});

test('request refuses malformed JSON, missing and wrongly typed fields, other content types and huge bodies', async () => {
  for (const text of ['{', 'not json', '[]', '"x"', '']) expectError(await postJson(REQUEST, text), 400, 'invalid_json');
  expectError(await post(server, REQUEST, {}), 400, 'missing_field', 'email');
  for (const bad of [42, true, null, ['a@b.c'], { a: 1 }]) expectError(await post(server, REQUEST, { email: bad }), 400, ['wrong_type', 'missing_field'], 'email');
  expectError(await post(server, REQUEST, { email: randomEmail(), admin: true }), 400, 'unknown_field', 'admin');
  expectError(await request(server, 'POST', REQUEST, { body: JSON.stringify({ email: randomEmail() }), headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  expectError(await post(server, REQUEST, { email: 'a'.repeat(70 * 1024) }), 413, 'body_too_large');
  expectError(await get(server, REQUEST), 405, 'method_not_allowed');
  await assertNothingLost(server, user);
});

test('request-password-change is limited per address, alike for known and unknown addresses', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '100000', GATEHOUSE_RATE_ACCOUNT_MAX: '100000' } });
  const { email } = await registerAndConfirm(s);
  const unknown = randomEmail('nobody');
  for (const e of [email, unknown]) for (let i = 0; i < 3; i++) expectMessage(await requestReset(e, s));
  const a = await requestReset(email, s);
  const b = await requestReset(unknown, s);
  expectRateLimited(a, 15 * 60);
  expectRateLimited(b, 15 * 60);
  assert.equal(a.text, b.text);
  await sleep(300);
  assert.equal(resetMails(email, s).length, 3, 'no mail for the refused request');
  await s.stop();
});

// ---------------------------------------------------------------- the link

test('the reset link answers 303 to the frontend change-password page with a new 43-character token', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(email));
  const link = await passwordResetLink(server, email);
  const r = await get(server, pathOf(link));
  const token = changeTokenOf(r, server.url);
  assert.notEqual(token, tokenOf(link), 'the change token is not the reset token');
  assert.match(r.headers.get('cache-control') || '', /no-store/, 'an answer with a token is not cached');
});

test('the redirect goes to GATEHOUSE_FRONTEND_URL when set', async () => {
  const frontend = 'http://front.example:8080';
  const s = await startServer({ env: { GATEHOUSE_FRONTEND_URL: frontend } });
  const { email: addr } = await registerAndConfirm(s);
  expectMessage(await requestReset(addr, s));
  const link = await passwordResetLink(s, addr);
  assert.ok(link.startsWith(`${s.url}${RESET_LINK_PATH}`), `the mailed link points at this server: ${link}`);
  changeTokenOf(await get(s, pathOf(link)), frontend);
  expectErrorRedirect(await get(s, pathOf(link)), frontend);
  await s.stop();
});

test('a replayed reset link answers 303 to /auth/error with a clean reason', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(email));
  const link = await passwordResetLink(server, email);
  changeTokenOf(await get(server, pathOf(link)), server.url);
  expectErrorRedirect(await get(server, pathOf(link)));
});

test('a missing, unknown or malformed reset token answers 303 to /auth/error', async () => {
  for (const q of ['', '?token=', `?token=${randomBytes(32).toString('base64url')}`, '?token=garbage', '?token=a%20b%3D%26', `?token=${'A'.repeat(5000)}`, '?other=1']) {
    expectErrorRedirect(await get(server, RESET_LINK_PATH + q));
  }
  expectErrorRedirect(await get(server, RESET_LINK_PATH.replace(/\/$/, '') + '?token=nope'));
});

test('a confirmation token does not work as a reset token, nor a reset token as a change token', async () => {
  const email = randomEmail();
  await register(server, { email });
  const confirm = tokenOf(await confirmationLink(server, email));
  expectErrorRedirect(await get(server, `${RESET_LINK_PATH}?token=${confirm}`));

  const { email: e2 } = await registerAndConfirm(server);
  expectMessage(await requestReset(e2));
  const resetToken = tokenOf(await passwordResetLink(server, e2));
  expectError(await changePassword(resetToken, newPassword()), 400, 'invalid_token', 'token');
  changeTokenOf(await get(server, `${RESET_LINK_PATH}?token=${resetToken}`), server.url);
});

test('an expired reset link answers 303 to /auth/error', async () => {
  const s = await startServer({ env: { GATEHOUSE_RESET_TOKEN_TTL: '1' } });
  const { email } = await registerAndConfirm(s);
  expectMessage(await requestReset(email, s));
  const link = await passwordResetLink(s, email);
  await sleep(2200);
  expectErrorRedirect(await get(s, pathOf(link)), s.url);
  await s.stop();
});

test('a newer reset request leaves the older link usable until one of them is used', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(email));
  const first = await passwordResetLink(server, email, { count: 1 });
  expectMessage(await requestReset(email));
  const second = await passwordResetLink(server, email, { count: 2 });
  assert.notEqual(first, second);
  changeTokenOf(await get(server, pathOf(second)), server.url);
  // consuming a token of a purpose revokes the user's other tokens of that purpose
  expectErrorRedirect(await get(server, pathOf(first)));
});

// ---------------------------------------------------------------- the change

test('the full flow: the new password logs in, the old one does not', async () => {
  const creds = await registerAndConfirm(server);
  const token = await passwordChangeToken(server, creds.email);
  const password = newPassword();
  expectMessage(await changePassword(token, password));
  await loginOk(server, { email: creds.email, password });
  const old = await login(server, creds);
  expectError(old.r, 401, 'invalid_credentials');
});

test('a replayed change token is refused with 400 invalid_token naming the field', async () => {
  const creds = await registerAndConfirm(server);
  const token = await passwordChangeToken(server, creds.email);
  const password = newPassword();
  expectMessage(await changePassword(token, password));
  const r = await changePassword(token, newPassword());
  expectError(r, 400, 'invalid_token', 'token');
  await loginOk(server, { email: creds.email, password });
});

test('an unknown or malformed change token is refused with 400 invalid_token', async () => {
  for (const token of [randomBytes(32).toString('base64url'), 'garbage', '', 'a b=c&d']) {
    expectError(await changePassword(token, newPassword()), 400, 'invalid_token', 'token');
  }
  // a token longer than the field's limit may be refused as too long instead
  expectError(await changePassword('x'.repeat(500), newPassword()), 400, ['invalid_token', 'too_long'], 'token');
});

const WEAK = {
  password_common: () => 'password1234',
  password_too_short: () => 'vq8!mzr-kp3',
  password_too_long: () => 'x'.repeat(129),
  password_contains_email: (email) => `my ${email.split('@')[0]} is long`,
};
for (const [code, make] of Object.entries(WEAK)) {
  test(`a weak new password is refused with 400 ${code} and the change token still works`, async () => {
    const creds = await registerAndConfirm(server);
    const token = await passwordChangeToken(server, creds.email);
    expectError(await changePassword(token, make(creds.email)), 400, code, 'password');
    await loginOk(server, creds); // the old password is unchanged
    const password = newPassword();
    expectMessage(await changePassword(token, password));
    await loginOk(server, { email: creds.email, password });
  });
}

test('an expired change token is refused with 400 invalid_token', async () => {
  const s = await startServer({ env: { GATEHOUSE_PASSWORD_CHANGE_TOKEN_TTL: '1' } });
  const creds = await registerAndConfirm(s);
  const token = await passwordChangeToken(s, creds.email);
  await sleep(2200);
  expectError(await changePassword(token, newPassword(), s), 400, 'invalid_token', 'token');
  await loginOk(s, creds);
  await s.stop();
});

test('a reset revokes every session of the user', async () => {
  const creds = await registerAndConfirm(server);
  const a = await loginOk(server, creds);
  const b = await loginOk(server, creds);
  const other = await registerAndConfirm(server);
  const otherCookie = await loginOk(server, other);
  const token = await passwordChangeToken(server, creds.email);
  expectMessage(await changePassword(token, newPassword()));
  expectError(await get(server, '/users/current-user/', { cookie: a }), 401, 'not_authenticated');
  expectError(await get(server, '/users/current-user/', { cookie: b }), 401, 'not_authenticated');
  assert.equal((await get(server, '/users/current-user/', { cookie: otherCookie })).status, 200, 'another user keeps the session');
});

test('a reset revokes every outstanding reset and change token of the user', async () => {
  const creds = await registerAndConfirm(server);
  expectMessage(await requestReset(creds.email));
  const link1 = await passwordResetLink(server, creds.email, { count: 1 });
  const t1 = changeTokenOf(await get(server, pathOf(link1)), server.url);
  expectMessage(await requestReset(creds.email));
  const link2 = await passwordResetLink(server, creds.email, { count: 2 });
  const t2 = changeTokenOf(await get(server, pathOf(link2)), server.url);
  expectMessage(await requestReset(creds.email));
  const link3 = await passwordResetLink(server, creds.email, { count: 3 });
  expectMessage(await changePassword(t2, newPassword()));
  expectError(await changePassword(t1, newPassword()), 400, 'invalid_token', 'token');
  expectErrorRedirect(await get(server, pathOf(link3)));
});

test('a "password was changed" mail is queued after a reset', async () => {
  const creds = await registerAndConfirm(server);
  const token = await passwordChangeToken(server, creds.email);
  const password = newPassword();
  expectMessage(await changePassword(token, password));
  const mails = await waitUntil(() => {
    const m = readMails(server.dataDir).filter((x) => mailIsTo(x, creds.email) && /changed/i.test(x.subject));
    return m.length ? m : null;
  }, { what: 'a password-changed mail' });
  assert.equal(mails.length, 1);
  assert.ok(!mails[0].raw.includes(password), 'the mail does not hold the new password');
});

test('two concurrent changes with one token: exactly one wins', async () => {
  const creds = await registerAndConfirm(server);
  const token = await passwordChangeToken(server, creds.email);
  const passwords = [newPassword(), newPassword(), newPassword(), newPassword()];
  const answers = await Promise.all(passwords.map((p) => changePassword(token, p)));
  const ok = answers.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, `answers: ${answers.map((r) => `${r.status} ${r.text}`).join(' | ')}`);
  for (const r of answers.filter((x) => x.status !== 200)) expectError(r, 400, 'invalid_token', 'token');
  const winner = passwords[answers.indexOf(ok[0])];
  await loginOk(server, { email: creds.email, password: winner });
  for (const p of passwords.filter((x) => x !== winner)) expectError((await login(server, { email: creds.email, password: p })).r, 401);
});

test('two concurrent uses of one reset link: exactly one gets a change token', async () => {
  const { email } = await registerAndConfirm(server);
  expectMessage(await requestReset(email));
  const link = await passwordResetLink(server, email);
  const answers = await Promise.all([1, 2, 3, 4].map(() => get(server, pathOf(link))));
  const won = answers.filter((r) => (r.headers.get('location') || '').includes('/auth/password/change-password?token='));
  assert.equal(won.length, 1, answers.map((r) => r.headers.get('location')).join(' | '));
  for (const r of answers.filter((x) => !won.includes(x))) expectErrorRedirect(r);
});

test('reset and change tokens are stored hashed: no raw token in a database dump', async () => {
  const creds = await registerAndConfirm(server);
  expectMessage(await requestReset(creds.email));
  const link = await passwordResetLink(server, creds.email);
  const resetToken = tokenOf(link);
  // an unused reset token, a used one, an unused change token and a used one
  const changeToken = changeTokenOf(await get(server, pathOf(link)), server.url);
  expectMessage(await requestReset(creds.email));
  const unusedReset = tokenOf(await passwordResetLink(server, creds.email, { count: 2 }));
  const usedChange = changeToken;
  expectMessage(await changePassword(usedChange, newPassword()));
  const spare = await passwordChangeToken(server, creds.email, { count: 3 });
  // mail bodies still waiting in the outbox hold their links; wait until all are sent
  await waitUntil(() => sql(server.dataDir, 'SELECT count(*) AS n FROM mail_outbox WHERE sent_at IS NULL')[0].n === 0, { what: 'the outbox to drain' });
  const dump = storageDump(server.dataDir);
  for (const [what, t] of Object.entries({ resetToken, unusedReset, usedChange, spare })) {
    assert.ok(!dump.includes(t), `${what} appears in the database dump`);
  }
});

test('change-user-password refuses malformed JSON, missing and wrongly typed fields, other content types and huge bodies', async () => {
  for (const text of ['{', 'not json', '[]', '"x"', '', '{"token": "a", "password": "b",}']) expectError(await postJson(CHANGE, text), 400, 'invalid_json');
  const valid = { token: randomBytes(32).toString('base64url'), password: newPassword() };
  for (const field of Object.keys(valid)) {
    const body = { ...valid };
    delete body[field];
    const r = await post(server, CHANGE, body);
    expectError(r, 400, 'missing_field', field);
    assert.ok(r.body.error.includes(field), r.body.error);
    for (const bad of [42, true, ['x'], { a: 1 }]) expectError(await post(server, CHANGE, { ...valid, [field]: bad }), 400, 'wrong_type', field);
  }
  expectError(await post(server, CHANGE, { ...valid, email: 'x@example.com' }), 400, 'unknown_field', 'email');
  expectError(await request(server, 'POST', CHANGE, { body: JSON.stringify(valid), headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  expectError(await post(server, CHANGE, { ...valid, password: 'x'.repeat(70 * 1024) }), 413, 'body_too_large');
  expectError(await get(server, CHANGE), 405, 'method_not_allowed');
  await assertNothingLost(server, user);
});

test('the reset link route accepts only GET', async () => {
  const r = await request(server, 'POST', RESET_LINK_PATH, { body: '{}', headers: { 'content-type': 'application/json' } });
  expectError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow') || '', /\bGET\b/);
});

test('a cross-site Origin on the reset routes is refused with 403 bad_origin', async () => {
  const creds = await registerAndConfirm(server);
  const origin = { headers: { origin: 'http://evil.example' } };
  expectError(await post(server, REQUEST, { email: creds.email }, origin), 403, 'bad_origin');
  const token = await passwordChangeToken(server, creds.email);
  expectError(await post(server, CHANGE, { token, password: newPassword() }, origin), 403, 'bad_origin');
  expectMessage(await changePassword(token, newPassword()), 200);
});

test('after all the bad input the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
