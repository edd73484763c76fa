// GET /ready: readiness means writes work. The database must commit a write, and the local mail
// and media directories must take a file; a full disk (a real one: a small tmpfs filled up) or a
// read-only database answers 503 naming the part that fails, and 200 again once it is fixed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, cleanup, get, assertJsonContentType, assertCleanSentence, register, waitForMail,
  waitUntil, setDatabaseReadOnly, BACKEND,
} from '../support/server.js';
import { mountSmallFilesystem } from '../support/smallfs.js';

after(cleanup);

const PARTS = ['database', 'kv', 'mail', 'media'];

/** GET /ready; asserts the JSON shape and returns {status, body}. */
async function ready(server) {
  const r = await get(server, '/ready');
  assertJsonContentType(r);
  assert.deepEqual(Object.keys(r.body).filter((k) => k !== 'error').sort(), ['status', ...PARTS].sort(), r.text);
  if (r.status === 200) {
    assert.equal(r.body.status, 'ready', r.text);
    assert.ok(!('error' in r.body), r.text);
  } else {
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.status, 'unavailable', r.text);
    assertCleanSentence(r.body.error, 'error');
  }
  return { status: r.status, body: r.body };
}

/** Files the readiness probe would leave behind if it did not clean up. */
function probeFiles(dir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.ready-')) : [];
}

test('GET /ready answers 200 when every part works, and leaves no probe file behind', async () => {
  const s = await startServer();
  const { status, body } = await ready(s);
  assert.equal(status, 200);
  for (const part of PARTS) assert.equal(body[part], 'ok', part);
  assert.equal((await get(s, '/ready/')).status, 200);
  assert.deepEqual(probeFiles(join(s.dataDir, 'mail')), []);
  assert.deepEqual(probeFiles(join(s.dataDir, 'media')), []);
  await s.stop();
});

test('GET /ready does not check a remote mail server: SMTP is "not_checked"', async () => {
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: 'smtp://127.0.0.1:1' } });
  const { status, body } = await ready(s);
  assert.equal(status, 200);
  assert.equal(body.mail, 'not_checked');
  assert.equal(body.database, 'ok');
  await s.stop();
});

test('a full disk makes GET /ready answer 503 naming what fails, and 200 again once there is room', async (t) => {
  const small = mountSmallFilesystem(16);
  if (small.error) {
    t.skip(small.error);
    return;
  }
  // The data directory on the small file system: the SQLite database (on SQLite), the mail
  // directory and the media directory all live there.
  const s = await startServer({ dataDir: small.dir });
  try {
    const { email } = await register(s);
    await waitForMail(s.dataDir, { to: email });
    assert.equal((await ready(s)).status, 200);

    const filled = small.fill();
    assert.ok(filled > 0, 'the filler took the free space');
    const { status, body } = await ready(s);
    assert.equal(status, 503, JSON.stringify(body));
    assert.equal(body.mail, 'unavailable');
    assert.equal(body.media, 'unavailable');
    assert.equal(body.kv, 'ok');
    // SQLite writes to the full disk; PostgreSQL's files are elsewhere and still take writes.
    assert.equal(body.database, BACKEND === 'sqlite' ? 'unavailable' : 'ok');
    for (const part of PARTS) {
      if (body[part] === 'unavailable') assert.match(body.error, new RegExp(part), `the error names ${part}: ${body.error}`);
      else assert.doesNotMatch(body.error, new RegExp(part), `the error names only what fails: ${body.error}`);
    }

    small.unfill();
    const healed = await ready(s);
    assert.equal(healed.status, 200, JSON.stringify(healed.body));
    for (const part of PARTS) assert.equal(healed.body[part], 'ok', part);
    assert.deepEqual(probeFiles(join(s.dataDir, 'mail')), []);
    assert.deepEqual(probeFiles(join(s.dataDir, 'media')), []);
    // Nothing is stuck: a new registration is stored and its mail written.
    const { email: later } = await register(s);
    await waitForMail(s.dataDir, { to: later, timeoutMs: 10000 });
  } finally {
    await s.stop();
    small.unmount();
  }
});

test('a read-only PostgreSQL database makes GET /ready answer 503 naming the database', async (t) => {
  if (BACKEND === 'sqlite') {
    t.skip('PostgreSQL only (on SQLite the full-disk test covers the database write)');
    return;
  }
  const s = await startServer();
  try {
    assert.equal((await ready(s)).status, 200);
    setDatabaseReadOnly(s.dataDir, true);
    const down = await waitUntil(async () => {
      const r = await ready(s);
      return r.status === 503 && r.body.database === 'unavailable' ? r : null;
    }, { timeoutMs: 10000, what: '/ready 503 on a read-only database' });
    assert.equal(down.body.mail, 'ok');
    assert.match(down.body.error, /database/);
    setDatabaseReadOnly(s.dataDir, false);
    await waitUntil(async () => (await ready(s)).status === 200, { timeoutMs: 10000, what: '/ready 200 again' });
  } finally {
    await s.stop();
  }
});
