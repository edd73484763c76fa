// The example services of examples/ (Python with PyJWT, Node with jose) protect GET /whoami with
// gatehouse's JWKS alone: a real gatehouse issues the tokens, each example runs as its own
// process on a free loopback port, and the test checks what a caller gets from them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { join } from 'node:path';
import {
  startServer, cleanup, get, post, sql, registerAndConfirm, waitUntil, sleep, GATEHOUSE_BIN, REPO_ROOT,
} from '../support/server.js';

const START_TIMEOUT_MS = 15_000;

let server;
let creds;
let userId;
const services = []; // {name, url, proc, stderr()}

/** Starts an example service against gatehouse at gatehouseUrl; resolves once it listens. */
function startExample(name, cmd, args, gatehouseUrl) {
  const proc = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env, GATEHOUSE_URL: gatehouseUrl, HOST: '127.0.0.1', PORT: '0',
      // fetch the JWKS again for a new kid after 1 s (the default 30 s is for real use)
      JWKS_REFRESH_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const svc = { name, proc, url: null, stderr: () => stderr };
  services.push(svc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on ([0-9.]+):(\d+)/.exec(stderr);
      if (m && !svc.url) {
        clearTimeout(timer);
        svc.url = `http://127.0.0.1:${m[2]}`;
        resolve(svc);
      }
    });
    proc.stdout.resume();
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!svc.url) reject(new Error(`${name} exited (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}

async function whoami(svc, authorization) {
  const res = await fetch(`${svc.url}/whoami`, { headers: authorization === undefined ? {} : { authorization } });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, body, text, challenge: res.headers.get('www-authenticate') };
}

const bearer = (token) => `Bearer ${token}`;
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const part = (token, i) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8'));

async function obtain(s = server, c = creds) {
  const r = await post(s, '/api/token/', { email: c.email, password: c.password });
  assert.equal(r.status, 200, `obtain: ${r.status} ${r.text}`);
  return r.body;
}

/** The token's header and claims signed again with gatehouse's own private key of that kid, read
 * from its database: a token gatehouse could have issued, with claims it would not have. */
function signWithServerKey(s, token, claims) {
  const header = part(token, 0);
  const [row] = sql(s.dataDir, `SELECT private_key FROM signing_keys WHERE kid = '${header.kid}'`);
  assert.match(row.private_key, /^der1:/, 'a key stored unsealed');
  // i2d_PrivateKey's DER: SEC1 for an EC key, PKCS #8 for Ed25519
  const der = Buffer.from(row.private_key.slice(5), 'base64');
  const key = createPrivateKey({ key: der, format: 'der', type: header.alg === 'ES256' ? 'sec1' : 'pkcs8' });
  const input = `${enc(header)}.${enc(claims)}`;
  const sig = cryptoSign(header.alg === 'ES256' ? 'sha256' : null, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

before(async () => {
  server = await startServer({ env: { GATEHOUSE_KEY_RELOAD_SECONDS: '1' } });
  creds = await registerAndConfirm(server);
  userId = (await get(server, '/users/current-user/', { headers: { authorization: bearer((await obtain()).access) } })).body.id;
  await startExample('python-service', '/usr/bin/python3', [join('examples', 'python-service', 'service.py')], server.url);
  await startExample('node-service', process.execPath, [join('examples', 'node-service', 'server.js')], server.url);
});

after(async () => {
  for (const svc of services) {
    if (svc.proc.exitCode === null && svc.proc.signalCode === null) {
      const exited = new Promise((r) => svc.proc.on('exit', r));
      svc.proc.kill('SIGTERM');
      await exited;
    }
  }
  await cleanup();
});

test('each example answers 200 with the token\'s sub for a valid access token', async () => {
  const t = await obtain();
  for (const svc of services) {
    const r = await whoami(svc, bearer(t.access));
    assert.equal(r.status, 200, `${svc.name}: ${r.text}\n${svc.stderr()}`);
    assert.deepEqual(r.body, { sub: userId, email: creds.email, client_id: null }, svc.name);
    // the scheme is case-insensitive
    assert.equal((await whoami(svc, `bearer ${t.access}`)).status, 200, svc.name);
  }
});

test('each example answers 401 without a token and for tampered or foreign tokens', async () => {
  const t = await obtain();
  const [h, p, sig] = t.access.split('.');
  const claims = part(t.access, 1);
  const { kid } = part(t.access, 0);
  const jwk = (await get(server, '/.well-known/jwks.json')).body.keys.find((k) => k.kid === kid);
  const hsHead = enc({ alg: 'HS256', typ: 'JWT', kid });
  const other = await startServer();
  const otherToken = (await obtain(other, await registerAndConfirm(other))).access;
  const cases = {
    'no Authorization header': undefined,
    'an empty Bearer': 'Bearer ',
    'Basic credentials': `Basic ${Buffer.from(`${creds.email}:${creds.password}`).toString('base64')}`,
    'the token without a scheme': t.access,
    'a changed claim': bearer(`${h}.${enc({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })}.${sig}`),
    'a changed signature': bearer(`${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`),
    'alg none': bearer(`${enc({ alg: 'none', typ: 'JWT', kid })}.${p}.`),
    'HS256 keyed with the public key': bearer(`${hsHead}.${p}.${createHmac('sha256', JSON.stringify(jwk)).update(`${hsHead}.${p}`).digest('base64url')}`),
    'the refresh token': bearer(t.refresh),
    'garbage': bearer('not.a.token'),
    'an exp moved into the past': bearer(`${h}.${enc({ ...claims, exp: claims.iat - 60 })}.${sig}`),
    'a token of another gatehouse': bearer(otherToken),
  };
  for (const svc of services) {
    for (const [what, authorization] of Object.entries(cases)) {
      const r = await whoami(svc, authorization);
      assert.equal(r.status, 401, `${svc.name}, ${what}: ${r.status} ${r.text}`);
      assert.match(r.challenge || '', /^Bearer /, `${svc.name}, ${what}: WWW-Authenticate`);
    }
    assert.equal((await whoami(svc, bearer(t.access))).status, 200, `${svc.name} still answers a valid token`);
  }
  await other.stop();
});

test('each example refuses a correctly signed token that has expired, and one of another audience', async () => {
  const t = await obtain();
  const claims = part(t.access, 1);
  const now = Math.floor(Date.now() / 1000);
  // the same claims re-signed are accepted: the signing below is right, so a 401 is the claims'
  const resigned = signWithServerKey(server, t.access, claims);
  const expired = signWithServerKey(server, t.access, { ...claims, iat: now - 600, nbf: now - 600, exp: now - 300 });
  const foreignAudience = signWithServerKey(server, t.access, { ...claims, aud: 'https://another-service.example' });
  const notAccess = signWithServerKey(server, t.access, { ...claims, token_type: 'refresh' });
  for (const svc of services) {
    assert.equal((await whoami(svc, bearer(resigned))).status, 200, `${svc.name}: the re-signed token`);
    for (const [what, token] of Object.entries({ expired, foreignAudience, notAccess })) {
      const r = await whoami(svc, bearer(token));
      assert.equal(r.status, 401, `${svc.name}, ${what}: ${r.status} ${r.text}`);
    }
  }
  assert.equal((await post(server, '/api/token/verify/', { token: expired })).status, 401, 'gatehouse agrees');
});

test('after keys rotate, a token signed before keeps working at each example, and so do new ones', async () => {
  const older = await obtain();
  const oldKid = part(older.access, 0).kid;
  for (const svc of services) assert.equal((await whoami(svc, bearer(older.access))).status, 200, svc.name);

  const out = execFileSync(GATEHOUSE_BIN, ['keys', 'rotate'], { env: server.env, cwd: server.dataDir, encoding: 'utf8' });
  const newKid = /kid=(\S+)/.exec(out)[1];
  let refresh = older.refresh;
  const newer = await waitUntil(async () => {
    const r = await post(server, '/api/token/refresh/', { refresh });
    assert.equal(r.status, 200, r.text);
    refresh = r.body.refresh;
    return part(r.body.access, 0).kid === newKid ? r.body : (await sleep(200), null);
  }, { timeoutMs: 8000, what: 'a token signed with the new key' });
  assert.notEqual(newKid, oldKid);

  await sleep(1100); // JWKS_REFRESH_SECONDS since the examples' last fetch
  for (const svc of services) {
    const oldAnswer = await whoami(svc, bearer(older.access));
    assert.equal(oldAnswer.status, 200, `${svc.name}, the old token: ${oldAnswer.text}`);
    assert.equal(oldAnswer.body.sub, userId);
    const newAnswer = await whoami(svc, bearer(newer.access));
    assert.equal(newAnswer.status, 200, `${svc.name}, the new token: ${newAnswer.text}`);
    assert.equal(newAnswer.body.sub, userId);
  }
});
