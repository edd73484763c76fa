// Every 303 the mailed links can produce carries a Location a naive frontend reads right: the
// ?reason= text has no percent escape but %20 (a frontend that decodes only %20 would show
// "%2C" to the user), and none of = & # + (SPEC §1). Covers confirm OK/bad, reset link OK/bad
// and the paths taken when the database refuses writes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, get, post, expectMessage, register, registerAndConfirm, confirmationLink,
  openLink, passwordResetLink, pathOf, waitUntil, setDatabaseReadOnly, BACKEND,
} from '../support/server.js';
import { mountSmallFilesystem } from '../support/smallfs.js';

const FRONT = 'http://front.example';
const ENV = { GATEHOUSE_FRONTEND_URL: FRONT };

after(cleanup);

/**
 * Asserts a 303 to {FRONT}{page}?reason=<text> whose text survives a frontend that only turns
 * %20 into spaces, and returns the text.
 */
function reasonOf(r, page) {
  assert.equal(r.status, 303, `${r.status} ${r.text}`);
  const loc = r.headers.get('location') || '';
  const prefix = `${FRONT}${page}?reason=`;
  assert.ok(loc.startsWith(prefix), `Location ${loc} should start with ${prefix}`);
  const raw = loc.slice(prefix.length);
  const escapes = raw.match(/%[0-9A-Fa-f]{2}/g) || [];
  assert.deepEqual(escapes.filter((e) => e !== '%20'), [], `reason ${raw} has escapes other than %20`);
  assert.match(raw, /^[A-Za-z0-9.]+(%20[A-Za-z0-9.]+)*$/, `reason ${raw}: letters, digits, full stops and %20 only`);
  const naive = raw.replace(/%20/g, ' ');
  assert.equal(naive, decodeURIComponent(raw), 'decoding only %20 gives the whole text');
  assert.ok(naive.length > 10 && naive.endsWith('.'), `a sentence: ${naive}`);
  return naive;
}

/** Asserts a 303 to exactly {FRONT}{page} (no reason), or to {FRONT}{page}?token=<token>. */
function assertPlainRedirect(r, page, { token = false } = {}) {
  assert.equal(r.status, 303, `${r.status} ${r.text}`);
  const loc = r.headers.get('location') || '';
  if (token) assert.match(loc, new RegExp(`^${FRONT.replace(/\./g, '\\.')}${page}\\?token=[A-Za-z0-9_-]{43}$`), loc);
  else assert.equal(loc, `${FRONT}${page}`);
  assert.doesNotMatch(loc, /%/, `no escapes at all in ${loc}`);
}

const CONFIRM = '/users/register/confirm/';
const RESET = '/users/password-change/confirm/change-password/';

test('confirm links: OK, and every bad token, redirect with clean Locations', async () => {
  const s = await startServer({ env: ENV });
  const { email } = await register(s);
  const link = await confirmationLink(s, email);
  assertPlainRedirect(await openLink(s, link), '/auth/confirmed');
  const reasons = new Set();
  reasons.add(reasonOf(await openLink(s, link), '/auth/regenerate-token')); // used
  reasons.add(reasonOf(await get(s, CONFIRM), '/auth/regenerate-token')); // missing
  reasons.add(reasonOf(await get(s, `${CONFIRM}?token=garbage`), '/auth/regenerate-token'));
  reasons.add(reasonOf(await get(s, `${CONFIRM}?token=${'A'.repeat(43)}`), '/auth/regenerate-token'));
  assert.equal(reasons.size, 1, 'one reason for every bad confirmation token');
  await s.stop();
});

test('reset links: OK, and every bad token, redirect with clean Locations', async () => {
  const s = await startServer({ env: ENV });
  const { email } = await registerAndConfirm(s);
  expectMessage(await post(s, '/users/password-change/request-password-change/', { email }));
  const link = await passwordResetLink(s, email);
  assertPlainRedirect(await get(s, pathOf(link)), '/auth/password/change-password', { token: true });
  const reasons = new Set();
  reasons.add(reasonOf(await get(s, pathOf(link)), '/auth/error')); // used
  reasons.add(reasonOf(await get(s, RESET), '/auth/error')); // missing
  reasons.add(reasonOf(await get(s, `${RESET}?token=garbage`), '/auth/error'));
  reasons.add(reasonOf(await get(s, `${RESET}?token=${'A'.repeat(43)}`), '/auth/error'));
  assert.equal(reasons.size, 1, 'one reason for every bad reset token');
  await s.stop();
});

/**
 * A server whose database writes a test can make fail for real: on SQLite the data directory is
 * a small tmpfs that fail() fills up; on PostgreSQL fail() makes the database read-only.
 * Resolves with null (after skipping t) when this machine cannot mount a file system.
 */
async function serverWithFailingWrites(t) {
  if (BACKEND === 'sqlite') {
    const small = mountSmallFilesystem(16);
    if (small.error) {
      t.skip(small.error);
      return null;
    }
    const server = await startServer({ dataDir: small.dir, env: ENV });
    return {
      server,
      fail: () => small.fill(),
      heal: () => small.unfill(),
      async done() { await server.stop(); small.unmount(); },
    };
  }
  const server = await startServer({ env: ENV });
  return {
    server,
    fail: () => setDatabaseReadOnly(server.dataDir, true),
    heal: () => setDatabaseReadOnly(server.dataDir, false),
    async done() { await server.stop(); },
  };
}

test('when the database refuses writes, confirm and reset links redirect with clean reasons and stay usable', async (t) => {
  const w = await serverWithFailingWrites(t);
  if (!w) return;
  const s = w.server;
  try {
    const { email: unconfirmed } = await register(s);
    const confirmLink = await confirmationLink(s, unconfirmed);
    const { email } = await registerAndConfirm(s);
    expectMessage(await post(s, '/users/password-change/request-password-change/', { email }));
    const resetLink = await passwordResetLink(s, email);
    const badReset = reasonOf(await get(s, `${RESET}?token=garbage`), '/auth/error');

    w.fail();
    await waitUntil(async () => (await get(s, '/ready')).status === 503, { timeoutMs: 10000, what: '/ready 503' });
    const confirmFailed = reasonOf(await openLink(s, confirmLink), '/auth/error');
    const resetFailed = reasonOf(await get(s, pathOf(resetLink)), '/auth/error');
    assert.notEqual(resetFailed, badReset, 'a failure is not reported as a bad link');
    assert.notEqual(confirmFailed, badReset);

    // Nothing was consumed: once writes work again, both links still work. (On PostgreSQL each
    // server thread answers one more failure while it reconnects, hence the retries.)
    w.heal();
    await waitUntil(async () => (await get(s, '/ready')).status === 200, { timeoutMs: 10000, what: '/ready 200' });
    const once = (path) => waitUntil(async () => {
      const r = await get(s, path);
      return (r.headers.get('location') || '').startsWith(`${FRONT}/auth/error?`) ? null : r;
    }, { timeoutMs: 10000, what: `${path} working again` });
    assertPlainRedirect(await once(pathOf(confirmLink)), '/auth/confirmed');
    assertPlainRedirect(await once(pathOf(resetLink)), '/auth/password/change-password', { token: true });
  } finally {
    await w.done();
  }
});
