// The confirmation mail written by the default file transport: format, headers, link, text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, sql, sqlQuote, register, waitForMail, extractLink, tokenOf, waitUntil,
} from '../support/server.js';

let server;
let email;
let mail;
before(async () => {
  server = await startServer();
  ({ email } = await register(server));
  [mail] = await waitForMail(server.dataDir, { to: email });
});
after(cleanup);

test('the file transport writes one .eml file per message into <data dir>/mail', async () => {
  assert.ok(mail.file.startsWith(`${server.dataDir}/mail/`), mail.file);
  assert.ok(mail.file.endsWith('.eml'));
  const mine = (await waitForMail(server.dataDir, { to: email }));
  assert.equal(mine.length, 1, 'exactly one mail for one registration');
});

test('the mail has From (default), To, Subject, Date, Message-ID and MIME-Version headers', async () => {
  assert.equal(mail.from, 'gatehouse <noreply@localhost>');
  assert.ok(mail.to.toLowerCase().includes(email), mail.to);
  assert.ok(mail.subject.length > 0);
  assert.ok(mail.headers.date && !Number.isNaN(Date.parse(mail.headers.date)), `Date: ${mail.headers.date}`);
  assert.match(mail.headers['message-id'] || '', /^<[^<>@\s]+@[^<>@\s]+>$/);
  assert.equal(mail.headers['mime-version'], '1.0');
});

test('the mail is multipart/alternative with a text/plain and a text/html part in UTF-8', async () => {
  assert.match(mail.contentType, /^multipart\/alternative;/i);
  assert.equal(mail.parts.length, 2);
  assert.match(mail.parts[0].contentType, /^text\/plain;\s*charset="?utf-8"?/i);
  assert.match(mail.parts[1].contentType, /^text\/html;\s*charset="?utf-8"?/i);
  assert.ok(mail.text.trim().length > 0);
  assert.match(mail.html, /<html|<p|<a /i);
});

test('the raw mail uses CRLF line endings', async () => {
  const lines = mail.raw.split('\n');
  const bare = lines.slice(0, -1).filter((l) => !l.endsWith('\r'));
  assert.equal(bare.length, 0, `lines without CR: ${bare.slice(0, 3).map((l) => JSON.stringify(l))}`);
});

test('the confirmation link stands verbatim on a line of its own in the text part', async () => {
  const link = extractLink(mail.text, '/users/register/confirm/');
  assert.ok(link.startsWith(`${server.url}/users/register/confirm/?token=`), link);
  tokenOf(link);
  // no quoted-printable soft break inside the raw message
  assert.ok(mail.raw.includes(link), 'link appears verbatim in the raw message');
});

test('the HTML part links to the same URL', async () => {
  const link = extractLink(mail.text, '/users/register/confirm/');
  assert.ok(mail.html.includes(`href="${link}"`) || mail.html.includes(`href="${link.replace(/&/g, '&amp;')}"`), 'html has the link as href');
});

test('the confirmation mail says when the link expires', async () => {
  assert.match(mail.text, /30 minutes/);
  assert.match(mail.html, /30 minutes/);
});

test('the mail expiry text follows GATEHOUSE_CONFIRM_TOKEN_TTL', async () => {
  const s = await startServer({ env: { GATEHOUSE_CONFIRM_TOKEN_TTL: '7200' } });
  const { email: e } = await register(s);
  const [m] = await waitForMail(s.dataDir, { to: e });
  assert.match(m.text, /2 hours|120 minutes/);
  await s.stop();
});

test('the outbox row of a written mail is marked sent', async () => {
  const row = await waitUntil(() => {
    const r = sql(server.dataDir, `SELECT * FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0];
    return r && r.sent_at !== null ? r : null;
  }, { what: 'mail_outbox.sent_at' });
  assert.ok(Number.isInteger(row.sent_at));
  assert.equal(row.last_error, null);
});

test('the mail token is stored only as a hash', async () => {
  const token = tokenOf(extractLink(mail.text, '/users/register/confirm/'));
  assert.ok(!JSON.stringify(sql(server.dataDir, 'SELECT * FROM one_time_tokens')).includes(token));
});

test('the From header follows GATEHOUSE_MAIL_FROM', async () => {
  const s = await startServer({ env: { GATEHOUSE_MAIL_FROM: 'Example Accounts <accounts@example.org>' } });
  const { email: e } = await register(s);
  const [m] = await waitForMail(s.dataDir, { to: e });
  assert.equal(m.from, 'Example Accounts <accounts@example.org>');
  await s.stop();
});
