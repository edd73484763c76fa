// GET /users/register/confirm/ and POST /users/regenerate-token/: one-time confirmation
// tokens and the 303 redirects to the frontend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, get, post, expectMessage, sql, sqlQuote, randomEmail, register,
  confirmationLink, openLink, tokenOf, login, loginOk, registerAndConfirm, waitForMail,
  readMails, mailIsTo, sleep, PASSWORD, TOKEN_RE, mailRequestsResolved,
} from '../support/server.js';

const FRONT = 'http://front.example';
let server; // frontend at FRONT

before(async () => {
  server = await startServer({ env: { GATEHOUSE_FRONTEND_URL: FRONT } });
});
after(cleanup);

/** Assert a 303 to {front}/auth/regenerate-token?reason=<clean percent-encoded text>. */
function assertRegenerateRedirect(r, front = FRONT) {
  assert.equal(r.status, 303, `${r.status} ${r.text}`);
  const loc = r.headers.get('location') || '';
  const prefix = `${front}/auth/regenerate-token?reason=`;
  assert.ok(loc.startsWith(prefix), `Location ${loc} should start with ${prefix}`);
  const encoded = loc.slice(prefix.length);
  assert.ok(encoded.length > 0, 'reason is not empty');
  assert.doesNotMatch(encoded, /[=&#+ ]/, `encoded reason ${encoded} must not contain = & # + or a raw space`);
  assert.match(encoded, /%20/, `spaces in the reason are encoded as %20: ${encoded}`);
  const reason = decodeURIComponent(encoded);
  assert.doesNotMatch(reason, /[=&#+]/, `reason ${reason} must not contain = & # +`);
  return reason;
}

function assertConfirmedRedirect(r, front = FRONT) {
  assert.equal(r.status, 303, `${r.status} ${r.text}`);
  assert.equal(r.headers.get('location'), `${front}/auth/confirmed`);
}

const isActive = (email) => sql(server.dataDir, `SELECT is_active FROM users WHERE email = ${sqlQuote(email)}`)[0].is_active;

test('the confirmation mail links to this server with a 43-character URL-safe token', async () => {
  const { email } = await register(server);
  const link = await confirmationLink(server, email);
  assert.ok(link.startsWith(`${server.url}/users/register/confirm/?token=`), link);
  assert.match(tokenOf(link), TOKEN_RE);
});

test('a valid token answers 303 to the frontend /auth/confirmed and activates the account', async () => {
  const { email } = await register(server);
  const link = await confirmationLink(server, email);
  assert.equal(isActive(email), 0);
  const r = await openLink(server, link);
  assertConfirmedRedirect(r);
  assert.equal(isActive(email), 1);
  const cookie = await loginOk(server, { email, password: PASSWORD });
  const me = await get(server, '/users/current-user/', { cookie });
  assert.equal(me.status, 200);
  assert.equal(me.body.is_active, true);
});

test('the confirm route works without the trailing slash', async () => {
  const { email } = await register(server);
  const token = tokenOf(await confirmationLink(server, email));
  const r = await get(server, `/users/register/confirm?token=${token}`);
  assertConfirmedRedirect(r);
});

test('reusing a consumed token redirects to regenerate-token with a reason', async () => {
  const { email } = await register(server);
  const link = await confirmationLink(server, email);
  assertConfirmedRedirect(await openLink(server, link));
  const again = await openLink(server, link);
  assertRegenerateRedirect(again);
  await loginOk(server, { email, password: PASSWORD });
});

test('a missing token redirects to regenerate-token with a reason', async () => {
  assertRegenerateRedirect(await get(server, '/users/register/confirm/'));
  assertRegenerateRedirect(await get(server, '/users/register/confirm/?token='));
  assertRegenerateRedirect(await get(server, '/users/register/confirm/?other=x'));
});

test('a garbage token redirects to regenerate-token with a reason', async () => {
  for (const t of ['garbage', 'A'.repeat(43), 'x'.repeat(5000), '%00%ff', "'%20OR%201=1--", '../../etc/passwd']) {
    assertRegenerateRedirect(await get(server, `/users/register/confirm/?token=${t}`));
  }
  assert.equal((await get(server, '/health-check/')).status, 200);
});

test('a token with one character changed does not confirm the account', async () => {
  const { email } = await register(server);
  const token = tokenOf(await confirmationLink(server, email));
  const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  assertRegenerateRedirect(await get(server, `/users/register/confirm/?token=${flipped}`));
  assert.equal(isActive(email), 0);
});

test('two concurrent uses of one token: exactly one reaches /auth/confirmed', async () => {
  for (let round = 0; round < 3; round++) {
    const { email } = await register(server);
    const link = await confirmationLink(server, email);
    const answers = await Promise.all([openLink(server, link), openLink(server, link), openLink(server, link)]);
    const confirmed = answers.filter((r) => r.headers.get('location') === `${FRONT}/auth/confirmed`);
    assert.equal(confirmed.length, 1, `locations: ${answers.map((r) => r.headers.get('location'))}`);
    for (const r of answers) if (r !== confirmed[0]) assertRegenerateRedirect(r);
  }
});

test('consuming the newest token revokes the older confirmation tokens of the user', async () => {
  const { email } = await register(server);
  expectMessage(await post(server, '/users/regenerate-token/', { email }));
  expectMessage(await post(server, '/users/regenerate-token/', { email }));
  const mails = await waitForMail(server.dataDir, { to: email, count: 3 });
  const links = mails.map((m) => m.text).map((t) => t.split(/\r?\n/).map((l) => l.trim()).find((l) => l.includes('/users/register/confirm/?token=')));
  assert.equal(new Set(links).size, 3, 'each mail has its own token');
  // the newest link: the one whose token is not in the two older mails (mail order is by file time)
  const newest = links[2];
  assertConfirmedRedirect(await openLink(server, newest));
  assertRegenerateRedirect(await openLink(server, links[1]));
  assertRegenerateRedirect(await openLink(server, links[0]));
});

test('an older token still confirms when it is the first one used', async () => {
  const { email } = await register(server);
  expectMessage(await post(server, '/users/regenerate-token/', { email }));
  const mails = await waitForMail(server.dataDir, { to: email, count: 2 });
  const first = mails[0].text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.includes('/users/register/confirm/?token='));
  assertConfirmedRedirect(await openLink(server, first));
});

test('a confirmation token is stored hashed', async () => {
  const { email } = await register(server);
  const token = tokenOf(await confirmationLink(server, email));
  const rows = sql(server.dataDir, `SELECT t.* FROM one_time_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = ${sqlQuote(email)}`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].purpose, 'confirm');
  assert.ok(!JSON.stringify(rows).includes(token), 'raw token not in one_time_tokens');
  const all = sql(server.dataDir, 'SELECT * FROM one_time_tokens');
  assert.ok(!JSON.stringify(all).includes(token));
});

test('a consumed token is marked used', async () => {
  const { email } = await register(server);
  assertConfirmedRedirect(await openLink(server, await confirmationLink(server, email)));
  const rows = sql(server.dataDir, `SELECT t.used_at FROM one_time_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = ${sqlQuote(email)}`);
  // either deleted or marked used; none may remain usable
  for (const row of rows) assert.notEqual(row.used_at, null);
});

test('regenerate-token answers the same for unknown, active and inactive accounts', async () => {
  const unknown = randomEmail();
  const active = (await registerAndConfirm(server)).email;
  const inactive = (await register(server)).email;
  const answers = [];
  for (const email of [unknown, active, inactive]) {
    const r = await post(server, '/users/regenerate-token/', { email });
    expectMessage(r, 200);
    answers.push(r);
  }
  assert.equal(answers[0].text, answers[1].text);
  assert.equal(answers[1].text, answers[2].text);
  assert.equal(answers[0].headers.get('content-type'), answers[2].headers.get('content-type'));
  // only the inactive account gets a new mail (the outbox worker resolves every request alike)
  await mailRequestsResolved(server.dataDir);
  const count = (email) => sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0].n;
  assert.equal(count(inactive), 2, 'inactive: registration mail + regenerated mail');
  assert.equal(count(active), 1, 'active: only the registration mail');
  assert.equal(count(unknown), 0, 'unknown: no mail');
  await waitForMail(server.dataDir, { to: inactive, count: 2 });
  assert.equal(readMails(server.dataDir).filter((m) => mailIsTo(m, unknown)).length, 0);
  assert.equal(readMails(server.dataDir).filter((m) => mailIsTo(m, active)).length, 1);
});

test('regenerate-token finds the inactive account whatever the case and padding of the email', async () => {
  const { email } = await register(server);
  expectMessage(await post(server, '/users/regenerate-token/', { email: ` ${email.toUpperCase()} ` }));
  await waitForMail(server.dataDir, { to: email, count: 2 });
});

test('regenerate-token rejects a syntactically bad email like register does', async () => {
  const r = await post(server, '/users/regenerate-token/', { email: 'not an email' });
  // either a 400 invalid_email or the uniform 200: never a 5xx, never a mail
  assert.ok([200, 400].includes(r.status), `${r.status} ${r.text}`);
});

test('the regenerated link confirms the account', async () => {
  const { email } = await register(server);
  expectMessage(await post(server, '/users/regenerate-token/', { email }));
  const link = await confirmationLink(server, email, { count: 2 });
  assertConfirmedRedirect(await openLink(server, link));
  await loginOk(server, { email, password: PASSWORD });
});

test('without a frontend URL the redirects land on the public URL (built-in UI)', async () => {
  const plain = await startServer();
  const { email } = await register(plain);
  const link = await confirmationLink(plain, email);
  assert.ok(link.startsWith(`${plain.url}/users/register/confirm/?token=`), link);
  assertConfirmedRedirect(await openLink(plain, link), plain.url);
  assertRegenerateRedirect(await openLink(plain, link), plain.url);
  await plain.stop();
});

test('an expired token redirects to regenerate-token and leaves the account inactive', async () => {
  const short = await startServer({ env: { GATEHOUSE_FRONTEND_URL: FRONT, GATEHOUSE_CONFIRM_TOKEN_TTL: '1' } });
  const { email } = await register(short);
  const link = await confirmationLink(short, email);
  await sleep(2200);
  assertRegenerateRedirect(await openLink(short, link));
  assert.equal(sql(short.dataDir, `SELECT is_active FROM users WHERE email = ${sqlQuote(email)}`)[0].is_active, 0);
  const { r } = await login(short, { email, password: PASSWORD });
  assert.equal(r.status, 403);
  await short.stop();
});
