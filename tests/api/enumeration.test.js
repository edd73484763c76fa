// No account enumeration on the routes that take just an address (SPEC §8): register,
// regenerate-token and request-password-change answer the same status, headers and body for an
// address with an account and one without, and do the same work: the request only records a
// mail request, which the outbox worker resolves into a mail when the account qualifies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, post, expectMessage, sql, sqlQuote, randomEmail, registration, register,
  registerAndConfirm, confirmationLink, openLink, loginOk, readMails, mailIsTo, waitForMail,
  mailRequestsResolved, extractLink, passwordResetLink, sleep, PASSWORD,
} from '../support/server.js';

let server;
before(async () => { server = await startServer(); });
after(cleanup);

const REGISTER = '/users/register/';
const REGENERATE = '/users/regenerate-token/';
const RESET = '/users/password-change/request-password-change/';

/** Everything a client sees of an answer but its Date. */
function visible(r) {
  const headers = [...r.headers.entries()].filter(([name]) => name !== 'date');
  return { status: r.status, headers, body: r.text };
}

const mailsTo = (email) => readMails(server.dataDir).filter((m) => mailIsTo(m, email));

test('register answers the same status, headers and body for an existing and a new address', async () => {
  const active = (await registerAndConfirm(server)).email;
  const inactive = (await register(server)).email;
  const answers = [];
  for (const email of [randomEmail(), active, inactive, active.toUpperCase()]) {
    answers.push(visible(await post(server, REGISTER, registration(email))));
  }
  assert.equal(answers[0].status, 201);
  for (const a of answers.slice(1)) assert.deepEqual(a, answers[0]);
});

for (const [path, what] of [[REGENERATE, 'regenerate-token'], [RESET, 'request-password-change']]) {
  test(`${what} answers the same status, headers and body for unknown, inactive and active addresses`, async () => {
    const active = (await registerAndConfirm(server)).email;
    const inactive = (await register(server)).email;
    const answers = [];
    for (const email of [randomEmail(), active, inactive]) answers.push(visible(await post(server, path, { email })));
    assert.equal(answers[0].status, 200);
    for (const a of answers.slice(1)) assert.deepEqual(a, answers[0]);
  });

  test(`${what} writes the same audit row for every address`, async () => {
    const active = (await registerAndConfirm(server)).email;
    const inactive = (await register(server)).email;
    const rows = [];
    for (const email of [randomEmail(), active, inactive]) {
      expectMessage(await post(server, path, { email }));
      const [audit] = sql(server.dataDir, `SELECT event, user_id, email, detail FROM audit_log WHERE email = ${sqlQuote(email)} ORDER BY id DESC LIMIT 1`);
      rows.push({ ...audit, email: audit.email === email });
    }
    assert.equal(rows[0].user_id, null);
    for (const r of rows.slice(1)) assert.deepEqual(r, rows[0]);
  });
}

test('the owner of an existing address is told that someone tried to register, with links to log in and to reset', async () => {
  const { email } = await registerAndConfirm(server, { first_name: 'Grace' });
  expectMessage(await post(server, REGISTER, registration(email, 'someone else entirely 7', { first_name: 'Mallory' })), 201);
  const [mail] = await waitForMail(server.dataDir, { to: email, subjectIncludes: 'tried to create an account' });
  assert.match(mail.text, /Hello Grace,/);
  assert.ok(!mail.raw.includes('Mallory') && !mail.raw.includes('someone else entirely'), 'nothing the requester typed but the address');
  assert.equal(extractLink(mail.text, '/auth/login'), `${server.url}/auth/login`);
  assert.equal(extractLink(mail.text, '/auth/password/request-change'), `${server.url}/auth/password/request-change`);
  assert.ok(mail.html.includes(`href="${server.url}/auth/login"`), 'the HTML part links to the login page');
  assert.ok(mail.html.includes(`href="${server.url}/auth/password/request-change"`), 'and to the reset page');
  assert.ok(!/token=/.test(mail.raw), 'no one-time link in it');
  await loginOk(server, { email, password: PASSWORD }); // the account and its password are untouched
});

test('the links of the notice point at the frontend', async () => {
  const s = await startServer({ env: { GATEHOUSE_FRONTEND_URL: 'https://app.example' } });
  const { email } = await register(s);
  await openLink(s, await confirmationLink(s, email));
  expectMessage(await post(s, REGISTER, registration(email)), 201);
  const [mail] = await waitForMail(s.dataDir, { to: email, subjectIncludes: 'tried to create an account' });
  assert.equal(extractLink(mail.text, '/auth/login'), 'https://app.example/auth/login');
  assert.equal(extractLink(mail.text, '/auth/password/request-change'), 'https://app.example/auth/password/request-change');
  await s.stop();
});

test('registering an unconfirmed address again mails a new confirmation link', async () => {
  const { email } = await register(server);
  await confirmationLink(server, email);
  expectMessage(await post(server, REGISTER, registration(email, 'a second attempt here 5')), 201);
  const link = await confirmationLink(server, email, { count: 2 });
  const r = await openLink(server, link);
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), /\/auth\/confirmed$/);
  await loginOk(server, { email, password: PASSWORD }); // the first password, not the second
});

test('the notices count against the address\'s mail limit; past it the answer is still 201 and nothing is sent', async () => {
  const s = await startServer({ env: { GATEHOUSE_RATE_EMAIL_MAX: '3' } });
  const { email } = await registerAndConfirm(s);
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(visible(await post(s, REGISTER, registration(email))));
  for (const a of answers) assert.deepEqual(a, answers[0]);
  assert.equal(answers[0].status, 201);
  await mailRequestsResolved(s.dataDir);
  await sleep(300);
  const notices = readMails(s.dataDir).filter((m) => mailIsTo(m, email) && m.subject.includes('tried to create an account'));
  assert.equal(notices.length, 3);
  await s.stop();
});

test('nothing arrives for an unknown address, and its requests leave no row', async () => {
  const unknown = randomEmail('nobody');
  expectMessage(await post(server, REGENERATE, { email: unknown }));
  expectMessage(await post(server, RESET, { email: unknown }));
  await mailRequestsResolved(server.dataDir);
  await sleep(300);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(unknown)}`)[0].n, 0);
  assert.equal(mailsTo(unknown).length, 0);
});

test('mails still arrive for qualifying accounts: a confirmation link for an inactive one, a reset link for an active one', async () => {
  const { email: inactive } = await register(server);
  expectMessage(await post(server, REGENERATE, { email: inactive }));
  assert.ok((await confirmationLink(server, inactive, { count: 2 })).startsWith(`${server.url}/users/register/confirm/?token=`));
  const { email: active } = await registerAndConfirm(server);
  expectMessage(await post(server, RESET, { email: active }));
  assert.ok((await passwordResetLink(server, active)).startsWith(`${server.url}/users/password-change/confirm/change-password/?token=`));
  // and nothing for the accounts that do not qualify
  expectMessage(await post(server, RESET, { email: inactive }));
  expectMessage(await post(server, REGENERATE, { email: active }));
  await mailRequestsResolved(server.dataDir);
  await sleep(300);
  assert.equal(mailsTo(inactive).length, 2, `registration and regenerated confirmation only: ${mailsTo(inactive).map((m) => m.subject)}`);
  assert.equal(mailsTo(active).length, 2, 'confirmation and reset only');
});
