// Avatars on an S3-compatible media store (GATEHOUSE_MEDIA_URL=s3://BUCKET): PATCH
// /users/update-user/ with a thumbnail file part. The store is s3rver behind a proxy that
// verifies the AWS Signature Version 4 of every request (tests/support/s3.js), so a gatehouse
// signing with the wrong secret is refused as by a real S3 service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, request, get, expectError, assertJsonContentType, registerAndConfirm, loginOk,
  png1x1,
} from '../support/server.js';
import { startS3 } from '../support/s3.js';

const RED_PNG = png1x1([255, 0, 0, 255]);
const BLUE_PNG = png1x1([0, 0, 255, 255]);

// ---------------------------------------------------------------- helpers

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function uploadThumbnail(server, cookie, bytes, fields = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('thumbnail', new Blob([bytes], { type: 'image/png' }), 'avatar.png');
  return request(server, 'PATCH', '/users/update-user/', { cookie, body: form });
}

/** The bucket key of an avatar URL `${publicUrl}/avatars/<uuid>.png` (asserts the shape). */
function keyOf(s3, url) {
  const re = new RegExp(`^${escapeRe(s3.env.GATEHOUSE_S3_PUBLIC_URL)}/(avatars/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.png)$`);
  const m = re.exec(url || '');
  assert.ok(m, `thumbnail should be ${s3.env.GATEHOUSE_S3_PUBLIC_URL}/avatars/<uuid>.png, got ${JSON.stringify(url)}`);
  return m[1];
}

async function currentUser(server, cookie) {
  const r = await get(server, '/users/current-user/', { cookie });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function rejectedDetail(s3) {
  return JSON.stringify((await s3.requests()).filter((e) => e.verdict !== 'ok'));
}

// ---------------------------------------------------------------- setup

let s3;
let server;
let user;
let cookie;

before(async () => {
  s3 = await startS3();
  server = await startServer({ env: s3.env });
  user = await registerAndConfirm(server);
  cookie = await loginOk(server, user);
});

after(async () => {
  await cleanup();
  if (s3) await s3.stop();
});

// ---------------------------------------------------------------- tests

let firstKey;

test('a thumbnail upload is stored in the bucket and served from the public URL', async () => {
  const r = await uploadThumbnail(server, cookie, RED_PNG);
  assert.equal(r.status, 200, r.text);
  assertJsonContentType(r);
  assert.equal(r.body.email, user.email.toLowerCase());
  firstKey = keyOf(s3, r.body.thumbnail);

  assert.deepEqual(await s3.listKeys('avatars/'), [firstKey]);
  const obj = await s3.getObject(firstKey);
  assert.equal(obj.status, 200);
  assert.ok(obj.body.equals(RED_PNG), 'stored object differs from the uploaded PNG');
  assert.equal(obj.contentType, 'image/png');

  const res = await fetch(r.body.thumbnail);
  assert.equal(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(RED_PNG), 'public URL serves other bytes');

  assert.equal((await currentUser(server, cookie)).thumbnail, r.body.thumbnail);
  assert.equal(await s3.rejected(), 0, `the proxy refused gatehouse requests: ${await rejectedDetail(s3)}`);
  const puts = (await s3.requests()).filter((e) => e.method === 'PUT' && e.verdict === 'ok');
  assert.deepEqual(puts.map((e) => e.path), [`/${s3.bucket}/${firstKey}`]);
});

test('a second upload replaces the avatar and deletes the first object', async () => {
  assert.ok(firstKey, 'needs the first upload');
  const r = await uploadThumbnail(server, cookie, BLUE_PNG);
  assert.equal(r.status, 200, r.text);
  const secondKey = keyOf(s3, r.body.thumbnail);
  assert.notEqual(secondKey, firstKey, 'names are never reused');

  assert.deepEqual(await s3.listKeys('avatars/'), [secondKey]);
  assert.equal(await s3.objectExists(firstKey), false, 'the previous avatar should be deleted');
  const obj = await s3.getObject(secondKey);
  assert.ok(obj.body.equals(BLUE_PNG));

  assert.equal((await currentUser(server, cookie)).thumbnail, r.body.thumbnail);
  const log = await s3.requests();
  assert.ok(log.some((e) => e.method === 'DELETE' && e.path === `/${s3.bucket}/${firstKey}` && e.verdict === 'ok'),
    `expected a verified DELETE of ${firstKey}: ${JSON.stringify(log)}`);
  assert.equal(await s3.rejected(), 0, `the proxy refused gatehouse requests: ${await rejectedDetail(s3)}`);
});

test('a request with an invalid field stores nothing in the bucket', async () => {
  const before = await s3.listKeys();
  const logBefore = (await s3.requests()).length;
  const thumbBefore = (await currentUser(server, cookie)).thumbnail;
  const r = await uploadThumbnail(server, cookie, RED_PNG, { phone_number: 'not a phone' });
  expectError(r, 400, 'invalid_phone_number');
  assert.deepEqual(await s3.listKeys(), before);
  assert.equal((await s3.requests()).length, logBefore, 'no S3 request for a rejected update');
  assert.equal((await currentUser(server, cookie)).thumbnail, thumbBefore);
});

test('with a wrong S3 secret the upload fails with a JSON error and nothing is stored', async () => {
  const bad = await startServer({ env: { ...s3.env, GATEHOUSE_S3_SECRET_KEY: `${s3.secretKey}-wrong` } });
  const badUser = await registerAndConfirm(bad);
  const badCookie = await loginOk(bad, badUser);
  const keysBefore = await s3.listKeys();
  const rejectedBefore = await s3.rejected();

  const r = await uploadThumbnail(bad, badCookie, RED_PNG);
  const body = expectError(r, [502, 503]);
  assert.equal(typeof body.code, 'string', `error code expected: ${r.text}`);
  assert.ok(body.code.length > 0);

  assert.deepEqual(await s3.listKeys(), keysBefore, 'nothing may land in the bucket');
  assert.ok(await s3.rejected() > rejectedBefore, 'the proxy should have refused the signature');
  const refused = (await s3.requests()).filter((e) => e.verdict === 'rejected');
  assert.ok(refused.every((e) => e.code === 'SignatureDoesNotMatch'), JSON.stringify(refused));
  assert.equal((await currentUser(bad, badCookie)).thumbnail, null);
});
