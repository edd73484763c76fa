// The SMTP transport against a real SMTP sink, and the outbox that keeps mail through SMTP
// outages and restarts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, makeDataDir, post, sql, sqlQuote, randomEmail, registration,
  expectMessage, extractLink, tokenOf, waitUntil, sleep, get, loginOk, PASSWORD,
} from '../support/server.js';
import { startSmtpSink } from '../support/smtp.js';
import { freePort } from '../support/ports.js';

const sinks = [];
after(async () => {
  await Promise.all(sinks.map((s) => s.stop()));
  await cleanup();
});

async function sink(port) {
  const s = await startSmtpSink({ port });
  sinks.push(s);
  return s;
}

const outboxRow = (dataDir, email) => sql(dataDir, `SELECT * FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0];

test('a server pointing at a running SMTP sink delivers the confirmation mail', async () => {
  const smtp = await sink(0);
  const from = 'Accounts <accounts@example.org>';
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: smtp.url, GATEHOUSE_MAIL_FROM: from } });
  const email = randomEmail();
  expectMessage(await post(s, '/users/register/', registration(email)), 201);
  const [msg] = await smtp.waitFor(email, { timeoutMs: 10000 });
  assert.deepEqual(msg.envelope.to.map((a) => a.toLowerCase()), [email]);
  assert.equal(msg.envelope.from, 'accounts@example.org');
  assert.equal(msg.mail.from, from);
  assert.match(msg.mail.contentType, /^multipart\/alternative/i);
  assert.ok(msg.mail.parts.some((p) => /^text\/plain/i.test(p.contentType)));
  assert.ok(msg.mail.parts.some((p) => /^text\/html/i.test(p.contentType)));
  const link = extractLink(msg.mail.text, '/users/register/confirm/');
  tokenOf(link);
  assert.ok(msg.raw.includes(link), 'link verbatim in the raw message');
  // the link works
  const r = await get(s, new URL(link).pathname + new URL(link).search);
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), /\/auth\/confirmed$/);
  await loginOk(s, { email, password: PASSWORD });
  await waitUntil(() => outboxRow(s.dataDir, email)?.sent_at != null, { what: 'sent_at' });
  assert.equal(smtp.messagesTo(email).length, 1);
  await s.stop();
});

test('the default From header over SMTP is gatehouse <noreply@localhost>', async () => {
  const smtp = await sink(0);
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: smtp.url } });
  const email = randomEmail();
  expectMessage(await post(s, '/users/register/', registration(email)), 201);
  const [msg] = await smtp.waitFor(email, { timeoutMs: 10000 });
  assert.equal(msg.mail.from, 'gatehouse <noreply@localhost>');
  await s.stop();
});

test('with the SMTP server down at first, the mail is delivered once it comes up, without a restart', async () => {
  const port = await freePort();
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: `smtp://127.0.0.1:${port}`, GATEHOUSE_MAIL_RETRY_SECONDS: '1', GATEHOUSE_MAIL_RETRY_MAX_SECONDS: '2' } });
  const email = randomEmail();
  expectMessage(await post(s, '/users/register/', registration(email)), 201);
  // at least one attempt has failed
  await waitUntil(() => (outboxRow(s.dataDir, email)?.attempts ?? 0) >= 1, { timeoutMs: 10000, what: 'a failed delivery attempt' });
  const row = outboxRow(s.dataDir, email);
  assert.equal(row.sent_at, null);
  assert.equal(typeof row.last_error, 'string');
  const smtp = await sink(port);
  await smtp.waitFor(email, { timeoutMs: 15000 });
  await waitUntil(() => outboxRow(s.dataDir, email)?.sent_at != null, { timeoutMs: 5000, what: 'sent_at' });
  await sleep(2500); // longer than a retry interval: a second delivery would show up here
  assert.equal(smtp.messagesTo(email).length, 1, 'delivered exactly once');
  await s.stop();
});

test('the register answer does not wait for SMTP', async () => {
  const port = await freePort();
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: `smtp://127.0.0.1:${port}`, GATEHOUSE_MAIL_RETRY_SECONDS: '1' } });
  const email = randomEmail();
  // nothing listens: the API still answers 201, with the mail waiting in the outbox
  expectMessage(await post(s, '/users/register/', registration(email)), 201);
  const row = outboxRow(s.dataDir, email);
  assert.ok(row, 'mail queued in the outbox');
  assert.equal(row.sent_at, null);
  await s.stop();
});

test('mail queued while SMTP is down survives a restart and is delivered exactly once', async () => {
  const port = await freePort();
  const dataDir = makeDataDir();
  const env = { GATEHOUSE_MAIL_URL: `smtp://127.0.0.1:${port}`, GATEHOUSE_MAIL_RETRY_SECONDS: '1', GATEHOUSE_MAIL_RETRY_MAX_SECONDS: '2' };
  const first = await startServer({ dataDir, env });
  const email = randomEmail();
  expectMessage(await post(first, '/users/register/', registration(email)), 201);
  assert.equal(await first.stop(), 0);
  assert.equal(outboxRow(dataDir, email).sent_at, null, 'not sent before the restart');

  const smtp = await sink(port);
  const second = await startServer({ dataDir, env });
  const [msg] = await smtp.waitFor(email, { timeoutMs: 15000 });
  await waitUntil(() => outboxRow(dataDir, email)?.sent_at != null, { timeoutMs: 5000, what: 'sent_at' });
  await sleep(2500);
  assert.equal(smtp.messagesTo(email).length, 1, 'delivered exactly once');
  // the link in the delivered mail works on the new process
  const link = extractLink(msg.mail.text, '/users/register/confirm/');
  const u = new URL(link);
  const r = await get(second, u.pathname + u.search);
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), /\/auth\/confirmed$/);
  await second.stop();
});
