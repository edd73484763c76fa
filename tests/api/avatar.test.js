// Avatars on the file media store (the default): PATCH /users/update-user/ with a thumbnail
// file part, recognised by its first bytes, stored under <data dir>/media/avatars/ and served
// by gatehouse at /media/...
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, cleanup, makeDataDir, request, get, expectError, assertJsonContentType,
  registerAndConfirm, loginOk, assertNothingLost, updateUser, currentUser, assertUserShape,
  png1x1, pathOf,
} from '../support/server.js';

// ---------------------------------------------------------------- image bytes

const PNG = png1x1([255, 0, 0, 255]);
const OTHER_PNG = png1x1([0, 0, 255, 255]);
// JFIF APP0 segment, then end of image: the smallest thing that starts like a JPEG file.
const JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  0x00, 0x01, 0x00, 0x00, 0xff, 0xd9,
]);
// A 1x1 transparent GIF89a.
const GIF = Buffer.from([
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff,
  0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
]);
// A 1x1 lossless WebP: RIFF <size> WEBP VP8L ...
const WEBP = Buffer.from([
  0x52, 0x49, 0x46, 0x46, 0x1a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c,
  0x0d, 0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe,
  0x07, 0x00,
]);

const IMAGES = [
  { kind: 'PNG', bytes: PNG, type: 'image/png', ext: /png/ },
  { kind: 'JPEG', bytes: JPEG, type: 'image/jpeg', ext: /jpe?g/ },
  { kind: 'GIF', bytes: GIF, type: 'image/gif', ext: /gif/ },
  { kind: 'WebP', bytes: WEBP, type: 'image/webp', ext: /webp/ },
];

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SQLITE_MAGIC = 'SQLite format 3';

// ---------------------------------------------------------------- helpers

let server;
let user; // an account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

async function freshSession(s = server) {
  const creds = await registerAndConfirm(s);
  return { ...creds, cookie: await loginOk(s, creds) };
}

function file(bytes, filename = 'avatar.png', type = 'image/png') {
  return { bytes, filename, type };
}

function upload(s, cookie, bytes, filename, type, fields = {}) {
  return updateUser(s, cookie, { ...fields, thumbnail: file(bytes, filename, type) });
}

/** Upload and assert 200; resolves with {user, url, name} where name is `<uuid>.<ext>`. */
async function uploadOk(s, cookie, bytes, { filename = 'avatar.png', type = 'image/png', ext = /png/ } = {}) {
  const r = await upload(s, cookie, bytes, filename, type);
  assert.equal(r.status, 200, `upload: ${r.status} ${r.text}`);
  assertJsonContentType(r);
  // the origin of the URL is checked by its own test; here the path decides
  const re = new RegExp(`^https?://[^/]+/media/avatars/(${UUID}\\.(${ext.source}))$`);
  const m = re.exec(r.body.thumbnail || '');
  assert.ok(m, `thumbnail should be {PUBLIC_URL}/media/avatars/<uuid>.<ext matching ${ext}>, got ${JSON.stringify(r.body.thumbnail)}`);
  return { user: r.body, url: r.body.thumbnail, path: pathOf(r.body.thumbnail), name: m[1] };
}

function avatarDir(s = server) {
  return join(s.dataDir, 'media', 'avatars');
}

function storedAvatars(s = server) {
  const dir = avatarDir(s);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** GET a URL with the raw path as given (fetch would normalise `..` away). */
function rawGet(s, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'GET', path }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('latin1');
        let body;
        try { body = JSON.parse(buf.toString('utf8')); } catch {}
        resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])), text, body, buf });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET an avatar URL from `s` (by its path, whatever origin the URL names). */
async function fetchBytes(url, s = server) {
  const res = await fetch(s.url + pathOf(url));
  return { status: res.status, headers: res.headers, buf: Buffer.from(await res.arrayBuffer()) };
}

// ---------------------------------------------------------------- upload and serve

test('the thumbnail URL is {PUBLIC_URL}/media/avatars/<uuid>.png, PUBLIC_URL defaulting to the listening address', async () => {
  const { cookie } = await freshSession();
  const r = await upload(server, cookie, PNG, 'a.png', 'image/png');
  assert.equal(r.status, 200, r.text);
  assert.match(r.body.thumbnail || '', new RegExp(`^${escapeRe(server.url)}/media/avatars/${UUID}\\.png$`));
  const res = await fetch(r.body.thumbnail);
  assert.equal(res.status, 200, 'the thumbnail URL itself can be fetched');
});

test('with GATEHOUSE_PUBLIC_URL set, the thumbnail URL starts with it', async () => {
  const s = await startServer({ env: { GATEHOUSE_PUBLIC_URL: 'https://id.example.com/' } });
  const { cookie } = await freshSession(s);
  const r = await upload(s, cookie, PNG, 'a.png', 'image/png');
  assert.equal(r.status, 200, r.text);
  assert.match(r.body.thumbnail || '', new RegExp(`^https://id\\.example\\.com/media/avatars/${UUID}\\.png$`));
  await s.stop();
});

for (const img of IMAGES) {
  test(`a ${img.kind} thumbnail is stored and served back byte for byte as ${img.type}`, async () => {
    const { cookie, email } = await freshSession();
    const { user: u, url, name } = await uploadOk(server, cookie, img.bytes, { filename: `me.${img.kind.toLowerCase()}`, type: img.type, ext: img.ext });
    assertUserShape(u, email);
    assert.equal((await currentUser(server, cookie)).thumbnail, url, 'current-user shows the new thumbnail');

    const got = await fetchBytes(url);
    assert.equal(got.status, 200);
    assert.ok(got.buf.equals(img.bytes), 'served bytes equal the uploaded bytes');
    assert.equal((got.headers.get('content-type') || '').split(';')[0].trim(), img.type);
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    const cc = got.headers.get('cache-control') || '';
    const maxAge = Number((/max-age=(\d+)/.exec(cc) || [])[1]);
    assert.ok(maxAge >= 365 * 86400, `Cache-Control with a long max-age: ${cc}`);
    assert.equal(cc, 'public, max-age=31536000, immutable', 'Cache-Control as documented');

    const onDisk = join(avatarDir(), name);
    assert.ok(existsSync(onDisk), `${onDisk} exists`);
    assert.ok(readFileSync(onDisk).equals(img.bytes), 'the stored file holds the uploaded bytes');
  });
}

test('the image type comes from the bytes, not from the file name or the claimed type', async () => {
  const { cookie } = await freshSession();
  const { url } = await uploadOk(server, cookie, GIF, { filename: 'photo.png', type: 'image/png', ext: /gif/ });
  const got = await fetchBytes(url);
  assert.equal((got.headers.get('content-type') || '').split(';')[0].trim(), 'image/gif');
  await uploadOk(server, cookie, PNG, { filename: 'noextension', type: 'application/octet-stream', ext: /png/ });
});

test('a thumbnail can come with profile fields in the same form', async () => {
  const { cookie } = await freshSession();
  const r = await upload(server, cookie, PNG, 'a.png', 'image/png', { first_name: 'Grace', phone_number: '+12345678' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.first_name, 'Grace');
  assert.equal(r.body.profile.phone_number, '+12345678');
  assert.match(r.body.thumbnail, /\/media\/avatars\//);
});

test('a replacement avatar deletes the old one: old URL 404 JSON, old file gone', async () => {
  const { cookie } = await freshSession();
  const first = await uploadOk(server, cookie, PNG);
  const second = await uploadOk(server, cookie, OTHER_PNG);
  assert.notEqual(second.name, first.name, 'a new generated name');
  assert.ok(!existsSync(join(avatarDir(), first.name)), 'old file deleted from disk');
  assert.ok(existsSync(join(avatarDir(), second.name)), 'new file on disk');
  const old = await get(server, pathOf(first.url));
  expectError(old, 404, 'not_found');
  const now = await fetchBytes(second.url);
  assert.equal(now.status, 200);
  assert.ok(now.buf.equals(OTHER_PNG));
});

test('uploading the same bytes again still gets a new name (names are never reused)', async () => {
  const { cookie } = await freshSession();
  const a = await uploadOk(server, cookie, PNG);
  const b = await uploadOk(server, cookie, PNG);
  assert.notEqual(a.name, b.name);
  expectError(await get(server, a.path), 404);
  assert.equal((await fetchBytes(b.url)).status, 200);
});

test('another user\'s upload leaves my avatar alone', async () => {
  const a = await freshSession();
  const b = await freshSession();
  const mine = await uploadOk(server, a.cookie, PNG);
  await uploadOk(server, b.cookie, OTHER_PNG);
  await uploadOk(server, b.cookie, GIF, { ext: /gif/ });
  assert.equal((await currentUser(server, a.cookie)).thumbnail, mine.url);
  assert.equal((await fetchBytes(mine.url)).status, 200);
});

test('an empty file part is ignored and keeps the current avatar', async () => {
  const { cookie } = await freshSession();
  const { url } = await uploadOk(server, cookie, PNG);
  const files = storedAvatars();
  const r = await upload(server, cookie, Buffer.alloc(0), '', 'application/octet-stream', { first_name: 'Grace' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.thumbnail, url);
  assert.equal(r.body.first_name, 'Grace');
  assert.deepEqual(storedAvatars(), files);
});

// ---------------------------------------------------------------- refused uploads

const NOT_IMAGES = {
  'a text file renamed evil.png': Buffer.from('hello, I am not an image\n'),
  'an HTML page': Buffer.from('<!doctype html><script>alert(document.cookie)</script>'),
  'an SVG image': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
  'a truncated PNG signature': PNG.subarray(0, 4),
  'a RIFF file that is not WebP': Buffer.concat([Buffer.from('RIFF'), Buffer.from([4, 0, 0, 0]), Buffer.from('WAVEfmt ')]),
  'a GIF87 lookalike with a wrong version': Buffer.from('GIF88a\x01\x00\x01\x00', 'latin1'),
  'random bytes': Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff)),
};
for (const [what, bytes] of Object.entries(NOT_IMAGES)) {
  test(`${what} sent as image/png is refused with 415 not_an_image and nothing is stored`, async () => {
    const { cookie } = await freshSession();
    const { url } = await uploadOk(server, cookie, PNG);
    const files = storedAvatars();
    const r = await upload(server, cookie, bytes, 'evil.png', 'image/png', { first_name: 'Mallory' });
    expectError(r, 415, 'not_an_image');
    const u = await currentUser(server, cookie);
    assert.equal(u.thumbnail, url, 'thumbnail unchanged');
    assert.notEqual(u.first_name, 'Mallory', 'the other fields of the refused form are not stored');
    assert.deepEqual(storedAvatars(), files, 'no new file on disk, the old one kept');
    assert.equal((await fetchBytes(url)).status, 200, 'the old avatar is still served');
  });
}

test('a bad profile field next to a good thumbnail stores no file', async () => {
  const { cookie } = await freshSession();
  const files = storedAvatars();
  const r = await upload(server, cookie, PNG, 'a.png', 'image/png', { phone_number: 'not a phone' });
  expectError(r, 400, 'invalid_phone_number', 'phone_number');
  assert.equal((await currentUser(server, cookie)).thumbnail, null);
  assert.deepEqual(storedAvatars(), files);
});

test('a PNG of exactly 1 MiB is accepted, one byte more is refused with 413 file_too_large', async () => {
  const { cookie } = await freshSession();
  const { url } = await uploadOk(server, cookie, png1x1([1, 2, 3, 4], { padTo: 1024 * 1024 }));
  const files = storedAvatars();
  const r = await upload(server, cookie, png1x1([1, 2, 3, 4], { padTo: 1024 * 1024 + 1 }), 'big.png', 'image/png');
  expectError(r, 413, 'file_too_large');
  assert.equal((await currentUser(server, cookie)).thumbnail, url);
  assert.deepEqual(storedAvatars(), files);
  const r2 = await upload(server, cookie, png1x1([1, 2, 3, 4], { padTo: 3 * 1024 * 1024 }), 'bigger.png', 'image/png');
  expectError(r2, 413, 'file_too_large');
  await assertNothingLost(server, user);
});

test('GATEHOUSE_AVATAR_MAX_BYTES=2048 refuses a 3 KiB PNG with 413 and accepts 2 KiB', async () => {
  const s = await startServer({ env: { GATEHOUSE_AVATAR_MAX_BYTES: '2048' } });
  const { cookie } = await freshSession(s);
  expectError(await upload(s, cookie, png1x1([9, 9, 9, 9], { padTo: 3072 }), 'a.png', 'image/png'), 413, 'file_too_large');
  assert.deepEqual(storedAvatars(s), []);
  await uploadOk(s, cookie, png1x1([9, 9, 9, 9], { padTo: 2048 }));
  await s.stop();
});

test('a multipart body over GATEHOUSE_MAX_MULTIPART_BODY is refused with 413 body_too_large and the server stays up', async () => {
  const s = await startServer({ env: { GATEHOUSE_MAX_MULTIPART_BODY: '65536', GATEHOUSE_AVATAR_MAX_BYTES: '1048576' } });
  const creds = await registerAndConfirm(s);
  const cookie = await loginOk(s, creds);
  const r = await upload(s, cookie, png1x1([1, 1, 1, 1], { padTo: 100 * 1024 }), 'a.png', 'image/png');
  expectError(r, 413, 'body_too_large');
  // a big text field is refused the same way
  const form = new FormData();
  form.append('first_name', 'Grace');
  form.append('junk', 'x'.repeat(200 * 1024));
  expectError(await request(s, 'PATCH', '/users/update-user/', { cookie, body: form }), 413, 'body_too_large');
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada');
  assert.deepEqual(storedAvatars(s), []);
  await assertNothingLost(s, creds);
  await uploadOk(s, cookie, PNG);
  await s.stop();
});

test('a multipart body over the default 8 MiB is refused with 413 body_too_large and the server stays up', async () => {
  const { cookie } = await freshSession();
  const r = await upload(server, cookie, png1x1([1, 1, 1, 1], { padTo: 9 * 1024 * 1024 }), 'huge.png', 'image/png');
  expectError(r, 413, 'body_too_large');
  await assertNothingLost(server, user);
});

// ---------------------------------------------------------------- serving /media/

test('media paths outside the store, hidden or unknown answer 404 JSON and never the database', async () => {
  // files that exist but must not be served
  mkdirSync(avatarDir(), { recursive: true });
  writeFileSync(join(server.dataDir, 'media', '.hidden'), 'secret');
  writeFileSync(join(avatarDir(), '.hidden.png'), PNG);
  const paths = [
    '/media/../gatehouse.db',
    '/media/avatars/../../gatehouse.db',
    '/media/avatars/..%2f..%2fgatehouse.db',
    '/media/%2e%2e/gatehouse.db',
    '/media/..%2fgatehouse.db',
    '/media/avatars/%2e%2e%2f%2e%2e%2fgatehouse.db',
    '/media/avatars/..\\..\\gatehouse.db',
    '/media//etc/passwd',
    '/media/avatars//x.png',
    '/media/.hidden',
    '/media/avatars/.hidden.png',
    '/media/avatars/x.txt',
    '/media/nope.png',
    '/media/avatars/00000000-0000-0000-0000-000000000000.png',
    '/media/',
    '/media',
    '/media/avatars/',
    '/media/gatehouse.db',
    '/media/../../../../etc/passwd',
  ];
  for (const path of paths) {
    const r = await rawGet(server, path);
    assert.equal(r.status, 404, `${path}: ${r.status} ${r.text.slice(0, 200)}`);
    assertJsonContentType(r);
    assert.ok(r.body && typeof r.body.error === 'string', `${path}: JSON error body: ${r.text.slice(0, 200)}`);
    assert.ok(!r.text.includes(SQLITE_MAGIC), `${path} leaked the database`);
    assert.ok(!r.text.includes('root:'), `${path} leaked /etc/passwd`);
    assert.ok(!r.text.includes('secret'), `${path} served a hidden file`);
  }
  await assertNothingLost(server, user);
});

test('media is read-only: other methods answer 405 or 404, never change a file', async () => {
  const { cookie } = await freshSession();
  const { path, name } = await uploadOk(server, cookie, PNG);
  for (const method of ['PUT', 'DELETE', 'POST']) {
    const r = await request(server, method, path, { cookie, body: 'x', headers: { 'content-type': 'image/png' } });
    expectError(r, [404, 405]);
  }
  assert.ok(readFileSync(join(avatarDir(), name)).equals(PNG));
});

test('avatar URLs survive a server restart', async () => {
  const dataDir = makeDataDir();
  const env = { GATEHOUSE_PUBLIC_URL: 'http://gatehouse.example' };
  const first = await startServer({ dataDir, env });
  const creds = await registerAndConfirm(first);
  const cookie = await loginOk(first, creds);
  const r = await upload(first, cookie, JPEG, 'me.jpg', 'image/jpeg');
  assert.equal(r.status, 200, r.text);
  const url = r.body.thumbnail;
  assert.match(url, new RegExp(`^http://gatehouse\\.example/media/avatars/${UUID}\\.jpe?g$`));
  assert.equal(await first.stop(), 0);

  const second = await startServer({ dataDir, env });
  assert.equal((await currentUser(second, cookie)).thumbnail, url);
  const again = await loginOk(second, creds);
  assert.equal((await currentUser(second, again)).thumbnail, url);
  const res = await fetch(second.url + pathOf(url));
  assert.equal(res.status, 200);
  assert.equal((res.headers.get('content-type') || '').split(';')[0], 'image/jpeg');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(JPEG));
  await second.stop();
});

test('after all the bad uploads the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
