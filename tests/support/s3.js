// An S3-compatible object store for the API tests: the s3rver emulator behind a proxy that
// verifies AWS Signature Version 4 (tests/support/sigv4_proxy.py), so that a client signing
// with the wrong secret is refused, as a real S3 service would.
//
//   const s3 = await startS3();
//   const gh = await startServer({ env: s3.env });
//   ...
//   await s3.stop();
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROXY_SCRIPT = resolve(HERE, 'sigv4_proxy.py');
// Debian's interpreter: it has python3-botocore (the python3 on PATH may be another one).
export const PROXY_PYTHON = process.env.SIGV4_PROXY_PYTHON || '/usr/bin/python3';

const START_TIMEOUT_MS = 10_000;
const running = new Set();

process.on('exit', () => {
  for (const s of running) {
    try { s.proxy.kill('SIGKILL'); } catch {}
    try { rmSync(s.dir, { recursive: true, force: true }); } catch {}
  }
});

function xmlUnescape(s) {
  return s
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, d) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}

function startProxy({ upstream, accessKey, secretKey, region }) {
  const proc = spawn(PROXY_PYTHON, [
    PROXY_SCRIPT, '--port', '0', '--upstream', upstream, '--access-key', accessKey, '--region', region,
  ], {
    env: { ...process.env, SIGV4_PROXY_SECRET_KEY: secretKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => {
    proc.on('exit', (code, signal) => res({ code, signal }));
    proc.on('error', (error) => res({ code: null, signal: null, error }));
  });
  const ready = new Promise((res, rej) => {
    const timer = setTimeout(() => fail(`did not print "listening on" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function fail(why) {
      clearTimeout(timer);
      try { proc.kill('SIGKILL'); } catch {}
      rej(new Error(`sigv4 proxy ${why}\n--- proxy stderr ---\n${stderr}\n--- proxy stdout ---\n${stdout}`));
    }
    let found = false;
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = !found && /listening on ([0-9.]+):(\d+)/.exec(stdout);
      if (m) {
        found = true;
        clearTimeout(timer);
        res(`http://${m[1]}:${m[2]}`);
      }
    });
    exited.then((r) => {
      if (!found) fail(`exited before listening (code ${r.code}, signal ${r.signal}${r.error ? ', ' + r.error.message : ''})`);
    });
  });
  return { proc, ready, exited, stderr: () => stderr };
}

/**
 * Start s3rver (a fresh temp directory, one bucket) on a free loopback port and the verifying
 * SigV4 proxy in front of it. Resolves with:
 *   endpoint   the proxy URL: what gatehouse talks to (signed requests only)
 *   directUrl  s3rver itself, unauthenticated: for reading objects back
 *   bucket, region, accessKey, secretKey
 *   env        the GATEHOUSE_* settings for a gatehouse using this store
 *   getObject(key)    → {status, body: Buffer, contentType}
 *   objectExists(key) → boolean
 *   listKeys(prefix?) → sorted keys in the bucket
 *   rejected()        → number of requests the proxy refused (asks the proxy; exact)
 *   requests()        → the proxy's log: [{method, path, verdict, status, code?, reason?}]
 *   proxyStderr()     → the proxy's raw JSON-lines log
 *   stop()
 */
export async function startS3({
  accessKey = 'gatehouse-test',
  secretKey = randomBytes(24).toString('base64url'),
  region = 'us-east-1',
  bucket = 'avatars-test',
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-s3-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  let addr;
  try {
    addr = await s3rver.run();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const directUrl = `http://127.0.0.1:${addr.port}`;

  const proxy = startProxy({ upstream: directUrl, accessKey, secretKey, region });
  const state = { proxy: proxy.proc, dir };
  running.add(state);
  let endpoint;
  try {
    endpoint = await proxy.ready;
  } catch (err) {
    running.delete(state);
    await s3rver.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const objectUrl = (key) => `${directUrl}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  let stopped = false;

  const s3 = {
    endpoint,
    directUrl,
    bucket,
    region,
    accessKey,
    secretKey,
    dir,
    env: {
      GATEHOUSE_MEDIA_URL: `s3://${bucket}`,
      GATEHOUSE_S3_ENDPOINT: endpoint,
      GATEHOUSE_S3_REGION: region,
      GATEHOUSE_S3_ACCESS_KEY: accessKey,
      GATEHOUSE_S3_SECRET_KEY: secretKey,
      GATEHOUSE_S3_PUBLIC_URL: `${directUrl}/${bucket}`,
    },

    objectUrl,

    async getObject(key) {
      const res = await fetch(objectUrl(key));
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, body, contentType: res.headers.get('content-type') };
    },

    async objectExists(key) {
      const res = await fetch(objectUrl(key), { method: 'HEAD' });
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw new Error(`HEAD ${objectUrl(key)}: unexpected ${res.status}`);
    },

    async listKeys(prefix = '') {
      const keys = [];
      let token;
      for (;;) {
        const q = new URLSearchParams({ 'list-type': '2', prefix });
        if (token) q.set('continuation-token', token);
        const res = await fetch(`${directUrl}/${bucket}?${q}`);
        const xml = await res.text();
        if (res.status !== 200) throw new Error(`list ${bucket}: ${res.status} ${xml}`);
        for (const m of xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)) keys.push(xmlUnescape(m[1]));
        const next = /<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/.exec(xml);
        if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || !next) break;
        token = xmlUnescape(next[1]);
      }
      return keys.sort();
    },

    async requests() {
      const res = await fetch(`${endpoint}/__sigv4proxy/log`);
      if (res.status !== 200) throw new Error(`proxy log: ${res.status}`);
      return res.json();
    },

    async rejected() {
      const res = await fetch(`${endpoint}/__sigv4proxy/stats`);
      if (res.status !== 200) throw new Error(`proxy stats: ${res.status}`);
      return (await res.json()).rejected;
    },

    proxyStderr: proxy.stderr,

    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(state);
      if (proxy.proc.exitCode === null && proxy.proc.signalCode === null) {
        proxy.proc.kill('SIGTERM');
        const t = setTimeout(() => { try { proxy.proc.kill('SIGKILL'); } catch {} }, 5000);
        await proxy.exited;
        clearTimeout(t);
      }
      await s3rver.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s3;
}
