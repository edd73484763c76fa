// Self-test of the S3 test fixture (tests/support/s3.js): the SigV4 proxy in front of s3rver
// accepts requests curl signs with the right secret and refuses the others, so the media tests
// built on it can fail. Run: node --test tests/support/s3-selftest.test.js
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startS3 } from './s3.js';

// Asynchronous on purpose: s3rver runs in this process and must keep answering.
const run = promisify(execFile);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

let s3;
let dir;

before(async () => {
  s3 = await startS3();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-s3-selftest-'));
});

after(async () => {
  if (s3) await s3.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name, bytes) {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/**
 * curl against the proxy. opts: {secret (false: unsigned), region, method, upload (path),
 * sha (x-amz-content-sha256 value; false: none), headers}. Resolves with {status, body}.
 */
async function curl(key, opts = {}) {
  const args = ['-sS', '-o', '-', '-w', '\n%{http_code}'];
  if (opts.secret !== false) {
    args.push('--aws-sigv4', `aws:amz:${opts.region || s3.region}:s3`, '--user', `${s3.accessKey}:${opts.secret ?? s3.secretKey}`);
  }
  if (opts.sha !== false && opts.sha !== undefined) args.push('-H', `x-amz-content-sha256: ${opts.sha}`);
  for (const h of opts.headers || []) args.push('-H', h);
  if (opts.upload) args.push('-T', opts.upload);
  if (opts.method) args.push('-X', opts.method);
  args.push(`${s3.endpoint}/${s3.bucket}/${key}`);
  const { stdout } = await run('curl', args, { encoding: 'utf8', timeout: 20_000 });
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

const errorCode = (xml) => (/<Code>([^<]*)<\/Code>/.exec(xml) || [])[1];

test('env describes the proxy endpoint and the direct public URL', () => {
  assert.deepEqual(s3.env, {
    GATEHOUSE_MEDIA_URL: `s3://${s3.bucket}`,
    GATEHOUSE_S3_ENDPOINT: s3.endpoint,
    GATEHOUSE_S3_REGION: 'us-east-1',
    GATEHOUSE_S3_ACCESS_KEY: 'gatehouse-test',
    GATEHOUSE_S3_SECRET_KEY: s3.secretKey,
    GATEHOUSE_S3_PUBLIC_URL: `${s3.directUrl}/${s3.bucket}`,
  });
  assert.notEqual(s3.endpoint, s3.directUrl);
  assert.ok(s3.secretKey.length >= 20);
});

test('a PUT signed with the right secret is stored and readable from s3rver', async () => {
  // > 1 KiB: curl sends Expect: 100-continue, and the proxy answers 100 after checking headers.
  const bytes = randomBytes(4096);
  const r = await curl('selftest/good.bin', {
    upload: file('good.bin', bytes), sha: sha256(bytes), headers: ['Content-Type: image/png'],
  });
  assert.equal(r.status, 200, r.body);
  const got = await s3.getObject('selftest/good.bin');
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(bytes), 'stored bytes differ');
  assert.equal(got.contentType, 'image/png');
  assert.ok(await s3.objectExists('selftest/good.bin'));
  assert.ok((await s3.listKeys()).includes('selftest/good.bin'));
  assert.equal(await s3.rejected(), 0);
});

test('a small PUT (no Expect) with the right secret and UNSIGNED-PAYLOAD is accepted', async () => {
  const bytes = Buffer.from('tiny');
  const r = await curl('selftest/tiny.txt', { upload: file('tiny.txt', bytes), sha: 'UNSIGNED-PAYLOAD' });
  assert.equal(r.status, 200, r.body);
  assert.ok((await s3.getObject('selftest/tiny.txt')).body.equals(bytes));
});

test('requests the proxy must refuse, and nothing is stored', async (t) => {
  const big = randomBytes(2048);
  const small = Buffer.from('small body');
  const bigPath = file('big.bin', big);
  const smallPath = file('small.bin', small);
  const before = await s3.rejected();
  const cases = [
    ['wrong secret, large body (refused at 100-continue)', 'bad/secret-big', { upload: bigPath, sha: sha256(big), secret: 'not-the-secret' }, 'SignatureDoesNotMatch'],
    ['wrong secret, small body', 'bad/secret-small', { upload: smallPath, sha: sha256(small), secret: 'not-the-secret' }, 'SignatureDoesNotMatch'],
    ['no Authorization header', 'bad/anonymous', { upload: smallPath, sha: sha256(small), secret: false }, 'AccessDenied'],
    ['body does not match x-amz-content-sha256', 'bad/tampered', { upload: bigPath, sha: sha256(small) }, 'XAmzContentSHA256Mismatch'],
    ['wrong region', 'bad/region', { upload: smallPath, sha: sha256(small), region: 'eu-west-1' }, 'AuthorizationHeaderMalformed'],
  ];
  for (const [name, key, opts, code] of cases) {
    await t.test(name, async () => {
      const r = await curl(key, opts);
      assert.equal(r.status, 403, r.body);
      assert.equal(errorCode(r.body), code, r.body);
      assert.equal(await s3.objectExists(key), false, `${key} must not be stored`);
    });
  }
  assert.deepEqual((await s3.listKeys('bad/')), []);
  assert.equal(await s3.rejected(), before + cases.length);
});

test('DELETE: refused with a wrong secret, done with the right one', async () => {
  const bytes = Buffer.from('to be deleted');
  assert.equal((await curl('selftest/del.txt', { upload: file('del.txt', bytes), sha: sha256(bytes) })).status, 200);
  const before = await s3.rejected();

  const bad = await curl('selftest/del.txt', { method: 'DELETE', sha: EMPTY_SHA256, secret: 'nope' });
  assert.equal(bad.status, 403, bad.body);
  assert.ok(await s3.objectExists('selftest/del.txt'));

  const good = await curl('selftest/del.txt', { method: 'DELETE', sha: EMPTY_SHA256 });
  assert.equal(good.status, 204, good.body);
  assert.equal(await s3.objectExists('selftest/del.txt'), false);
  assert.equal(await s3.rejected(), before + 1);
});

test('the proxy logs every request with its verdict', async () => {
  const log = await s3.requests();
  assert.ok(log.length >= 8);
  for (const e of log) {
    assert.ok(['ok', 'rejected', 'upstream-error'].includes(e.verdict), JSON.stringify(e));
    assert.equal(typeof e.method, 'string');
    assert.ok(e.path.startsWith(`/${s3.bucket}/`), JSON.stringify(e));
  }
  assert.equal(log.filter((e) => e.verdict === 'rejected').length, await s3.rejected());
  const lines = s3.proxyStderr().trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length >= log.length - 1); // the last line may still be in the pipe
});
