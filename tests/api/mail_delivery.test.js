// Mail exactly once with the file transport: one file per outbox row, named so that a mail sent
// again after a crash replaces its own file, names that sort in the order mails were queued, one
// Message-ID per row, and no temporary files left behind by a killed process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, cleanup, makeDataDir, register, randomEmail, readMails, mailRowId, mailIsTo, sql,
  sqlQuote, sleep, waitUntil, waitForMail,
} from '../support/server.js';

after(cleanup);

/** The outbox row of the one mail to `email`. */
function outboxRow(dataDir, email) {
  const rows = sql(dataDir, `SELECT id, created_at, sent_at FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`);
  assert.equal(rows.length, 1, `one outbox row for ${email}: ${JSON.stringify(rows)}`);
  return rows[0];
}

/** Files in the mail directory whose names start with a dot (temporary files). */
function hiddenMailFiles(dataDir) {
  const dir = join(dataDir, 'mail');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.')) : [];
}

test('a mail file is named after its outbox row and its Message-ID comes from the row', async () => {
  const s = await startServer();
  const { email } = await register(s);
  const [mail] = await waitForMail(s.dataDir, { to: email });
  const row = await waitUntil(() => {
    const r = outboxRow(s.dataDir, email);
    return r.sent_at !== null ? r : null;
  }, { what: 'the row marked sent' });
  assert.equal(mail.name, `${String(row.id).padStart(19, '0')}-${row.created_at}.eml`);
  assert.equal(mailRowId(mail), Number(row.id));
  assert.equal(mail.headers['message-id'], `<gatehouse.${row.id}.${row.created_at}@localhost>`);
  await s.stop();
});

test('a mail sent again after a crash replaces its own file instead of adding a second one', async () => {
  const dataDir = makeDataDir();
  const first = await startServer({ dataDir });
  const { email } = await register(first);
  const [before] = await waitForMail(dataDir, { to: email });
  await waitUntil(() => outboxRow(dataDir, email).sent_at !== null, { what: 'the row marked sent' });
  assert.equal(await first.stop(), 0);

  // What a crash between writing the file and marking the row sent leaves: a written file and a
  // row that is due again (with its bodies; a marked row has them emptied).
  const { id } = outboxRow(dataDir, email);
  sql(dataDir, `UPDATE mail_outbox SET sent_at = NULL, next_attempt_at = 0, text_body = 'sent again', html_body = '<p>sent again</p>' WHERE id = ${Number(id)}`);

  const second = await startServer({ dataDir });
  await waitUntil(() => outboxRow(dataDir, email).sent_at !== null, { what: 'the row sent again' });
  const mine = readMails(dataDir).filter((m) => mailIsTo(m, email));
  assert.equal(mine.length, 1, `one file for one outbox row, got ${mine.map((m) => m.name).join(', ')}`);
  assert.equal(mine[0].name, before.name, 'the same file name');
  assert.match(mine[0].text, /sent again/, 'the file holds the second writing');
  assert.equal(mine[0].headers['message-id'], before.headers['message-id'], 'the same Message-ID');
  assert.equal(mine[0].headers.date, before.headers.date, 'the same Date');
  assert.deepEqual(hiddenMailFiles(dataDir), []);
  await second.stop();
});

test('mails queued quickly have file names that sort in the order they were queued', async () => {
  const s = await startServer();
  // Spread over more than two seconds, so that names built from a wall clock and another
  // clock's milliseconds would go backwards at least once.
  const emails = [];
  for (let i = 0; i < 30; i++) {
    const email = `order-${String(i).padStart(2, '0')}-${randomEmail()}`;
    await register(s, { email });
    emails.push(email);
    await sleep(60);
  }
  const mails = await waitUntil(() => {
    const all = readMails(s.dataDir);
    return all.length >= emails.length ? all : null;
  }, { timeoutMs: 15000, what: `${emails.length} mails` });
  const order = mails.map((m) => emails.findIndex((e) => mailIsTo(m, e)));
  assert.deepEqual(order, emails.map((_, i) => i), `files by name: ${mails.map((m) => `${m.name} ${m.to}`).join('\n')}`);
  const ids = mails.map(mailRowId);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'names sort by row id');
  assert.ok(mailIsTo(mails[mails.length - 1], emails[emails.length - 1]), 'the last file is the newest mail');
  await s.stop();
});

test('unfinished temporary mail files left by a killed process are removed at start', async () => {
  const dataDir = makeDataDir();
  const dir = join(dataDir, 'mail');
  mkdirSync(dir, { recursive: true });
  const stale = ['.0000000000000000001-1700000000.eml.3f2a.tmp', '.1700000000123-1.tmp'];
  for (const f of stale) writeFileSync(join(dir, f), 'half a message');
  writeFileSync(join(dir, '0000000000000000001-1700000000.eml'), 'a finished mail\r\n');
  const s = await startServer({ dataDir });
  assert.deepEqual(hiddenMailFiles(dataDir), []);
  assert.ok(existsSync(join(dir, '0000000000000000001-1700000000.eml')), 'finished mails are kept');
  await s.stop();
});

test('kill -9 while mails are sent: after restarts every mail exists exactly once, no temporary file stays', async () => {
  const dataDir = makeDataDir();
  const emails = [];
  for (let cycle = 0; cycle < 4; cycle++) {
    const s = await startServer({ dataDir });
    const batch = Array.from({ length: 8 }, () => randomEmail(`kill${cycle}`));
    await Promise.all(batch.map((email) => register(s, { email })));
    emails.push(...batch);
    await sleep(5 + cycle * 7); // kill at a different point of the sending each time
    s.proc.kill('SIGKILL');
    await s.exited;
    await s.stop(); // the process is gone: this only takes it off the list of running servers
  }
  // The rows the killed processes had claimed stay leased for two minutes; end the leases now
  // instead of waiting for them.
  sql(dataDir, 'UPDATE mail_outbox SET next_attempt_at = 0 WHERE sent_at IS NULL');
  const s = await startServer({ dataDir });
  await waitUntil(() => sql(dataDir, 'SELECT count(*) AS n FROM mail_outbox WHERE sent_at IS NULL')[0].n === 0,
    { timeoutMs: 20000, what: 'every queued mail sent' });
  const mails = readMails(dataDir);
  for (const email of emails) {
    const mine = mails.filter((m) => mailIsTo(m, email));
    assert.equal(mine.length, 1, `${email}: ${mine.length} mail files`);
  }
  assert.equal(mails.length, emails.length, 'no other files');
  const ids = new Set(mails.map((m) => m.headers['message-id']));
  assert.equal(ids.size, mails.length, 'one Message-ID per mail');
  assert.deepEqual(hiddenMailFiles(dataDir), []);
  await s.stop();
});
