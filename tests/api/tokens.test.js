// The token API (SPEC §3): SimpleJWT-shaped routes, rotating refresh tokens with reuse
// detection and a grace window, Bearer access on the session routes, OAuth 2.0 clients,
// introspection and revocation, the JWKS and metadata, CORS — and their hostile cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import {
  startServer, cleanup, get, post, request, registerAndConfirm, register, loginOk, expectError,
  randomEmail, sleep, GATEHOUSE_BIN, PASSWORD, sql,
} from '../support/server.js';

let server;
let user;

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server, { first_name: 'Ada', last_name: 'Lovelace' });
});

after(cleanup);

const b64url = (s) => Buffer.from(s, 'base64url');
const decodePart = (token, i) => JSON.parse(b64url(token.split('.')[i]).toString('utf8'));

async function obtain(s = server, creds = user) {
  const r = await post(s, '/api/token/', { email: creds.email, password: creds.password });
  assert.equal(r.status, 200, `obtain: ${r.status} ${r.text}`);
  return r.body;
}

/** A SimpleJWT-shaped 401: error, detail and code. */
function expectTokenError(r, code = 'token_not_valid') {
  assert.equal(r.status, 401, `${r.status} ${r.text}`);
  assert.equal(r.body.code, code);
  assert.equal(typeof r.body.detail, 'string');
  assert.equal(typeof r.body.error, 'string');
}

/** Runs a gatehouse command against the server's storage; returns stdout. */
function cli(s, args) {
  return execFileSync(GATEHOUSE_BIN, args, { env: s.env, cwd: s.dataDir, encoding: 'utf8' });
}

function client(s, args) {
  const out = cli(s, ['client', 'create', ...args]);
  const id = /client_id=(\S+)/.exec(out)[1];
  const secret = (/client_secret=(\S+)/.exec(out) || [])[1];
  return { id, secret };
}

const basic = (c) => `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

function form(s, path, fields, headers = {}) {
  return request(s, 'POST', path, {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

// ---------------------------------------------------------------- obtain, verify, claims

test('POST /api/token/ answers an access and a refresh token for the right password', async () => {
  const t = await obtain();
  assert.deepEqual(Object.keys(t).sort(), ['access', 'expires_in', 'refresh', 'token_type']);
  assert.equal(t.token_type, 'Bearer');
  assert.equal(t.expires_in, 300);
  assert.match(t.refresh, /^[A-Za-z0-9_-]{43}$/);
  const header = decodePart(t.access, 0);
  const claims = decodePart(t.access, 1);
  assert.equal(header.alg, 'ES256');
  assert.equal(header.typ, 'JWT');
  assert.ok(header.kid);
  for (const k of ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'token_type', 'email', 'is_staff'])
    assert.ok(k in claims, `claim ${k}`);
  assert.equal(claims.token_type, 'access');
  assert.equal(claims.email, user.email);
  assert.equal(claims.is_staff, false);
  assert.equal(claims.iss, server.url);
  assert.equal(claims.exp - claims.iat, 300);
});

test('the access token verifies against the JWKS with Node crypto', async () => {
  const t = await obtain();
  const jwks = (await get(server, '/.well-known/jwks.json')).body;
  const kid = decodePart(t.access, 0).kid;
  const jwk = jwks.keys.find((k) => k.kid === kid);
  assert.ok(jwk, 'the signing key is published');
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.d, undefined, 'no private part');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const [h, p, sig] = t.access.split('.');
  assert.ok(verifySignature('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, b64url(sig)));
});

test('wrong credentials and unconfirmed accounts get SimpleJWT\'s 401 no_active_account', async () => {
  expectTokenError(await post(server, '/api/token/', { email: user.email, password: 'wrong password here' }), 'no_active_account');
  expectTokenError(await post(server, '/api/token/', { email: randomEmail(), password: PASSWORD }), 'no_active_account');
  const pending = randomEmail();
  await register(server, { email: pending });
  expectTokenError(await post(server, '/api/token/', { email: pending, password: PASSWORD }), 'no_active_account');
});

test('verify answers 200 {} for a valid token and 401 token_not_valid otherwise', async () => {
  const t = await obtain();
  const ok = await post(server, '/api/token/verify/', { token: t.access });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, {});
  const [h, p, s] = t.access.split('.');
  const claims = decodePart(t.access, 1);
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, is_staff: true })).toString('base64url')}.${s}`;
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
  const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: decodePart(t.access, 0).kid })).toString('base64url')}.${p}.${s}`;
  for (const bad of [forged, none, hs, t.refresh, 'x', `${h}.${p}`, `${h}.${p}.${s}x`])
    expectTokenError(await post(server, '/api/token/verify/', { token: bad }));
  expectError(await post(server, '/api/token/verify/', { token: 'a'.repeat(9000) }), 400, 'too_long', 'token');
});

// ---------------------------------------------------------------- Bearer on the session routes

test('a Bearer access token works on current-user, update-user and sessions', async () => {
  const t = await obtain();
  const auth = { authorization: `Bearer ${t.access}` };
  const me = await get(server, '/users/current-user/', { headers: auth });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.email, user.email);
  assert.deepEqual(me.headers.getSetCookie(), [], 'no device cookie for a Bearer caller: it has no session');
  const upd = await request(server, 'PATCH', '/users/update-user/', {
    body: new URLSearchParams({ first_name: 'Augusta' }).toString(),
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.body.first_name, 'Augusta');
  const sessions = await get(server, '/users/sessions/', { headers: auth });
  assert.equal(sessions.status, 200);
  assert.ok(sessions.body.sessions.every((s) => s.current === false), 'no session is the Bearer caller\'s');
});

test('a refresh token, a tampered token or a client token is no Bearer credential', async () => {
  const t = await obtain();
  for (const token of [t.refresh, `${t.access}x`, 'not.a.token'])
    expectError(await get(server, '/users/current-user/', { headers: { authorization: `Bearer ${token}` } }), 401, 'not_authenticated');
  const svc = client(server, ['--name', 'svc', '--confidential', '--grant', 'client_credentials']);
  const ct = await form(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(svc) });
  assert.equal(ct.status, 200, ct.text);
  expectError(await get(server, '/users/current-user/', { headers: { authorization: `Bearer ${ct.body.access_token}` } }), 401, 'not_authenticated');
});

test('with a Bearer token a wrong session cookie sent along does not matter, and logout needs the cookie', async () => {
  const t = await obtain();
  const me = await get(server, '/users/current-user/', { headers: { authorization: `Bearer ${t.access}`, cookie: 'sessionid=nonsense' } });
  assert.equal(me.status, 200);
  expectError(await request(server, 'POST', '/users/logout/', { headers: { authorization: `Bearer ${t.access}` } }), 401, 'not_authenticated');
});

// ---------------------------------------------------------------- rotation, reuse, grace

test('refresh rotates: a new access and a new refresh token; the old one is spent', async () => {
  const t = await obtain();
  const r = await post(server, '/api/token/refresh/', { refresh: t.refresh });
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.body.refresh, t.refresh);
  assert.match(r.body.refresh, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(r.body.access, t.access);
  const again = await post(server, '/api/token/refresh/', { refresh: r.body.refresh });
  assert.equal(again.status, 200, 'the successor works');
});

test('concurrent refreshes with one token get the same successor, never two branches', async () => {
  const t = await obtain();
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(server, '/api/token/refresh/', { refresh: t.refresh })));
  for (const a of answers) assert.equal(a.status, 200, a.text);
  const successors = new Set(answers.map((a) => a.body.refresh));
  assert.equal(successors.size, 1, 'one successor');
  const next = await post(server, '/api/token/refresh/', { refresh: [...successors][0] });
  assert.equal(next.status, 200);
});

test('a rotated token reused after the grace window revokes the whole family', async () => {
  const s = await startServer({ env: { GATEHOUSE_REFRESH_GRACE_SECONDS: '1' } });
  const creds = await registerAndConfirm(s);
  const t = await obtain(s, creds);
  const r1 = await post(s, '/api/token/refresh/', { refresh: t.refresh });
  assert.equal(r1.status, 200);
  await sleep(2200);
  expectTokenError(await post(s, '/api/token/refresh/', { refresh: t.refresh }));
  // the legitimate holder's successor is revoked with the family
  expectTokenError(await post(s, '/api/token/refresh/', { refresh: r1.body.refresh }));
  // a new login starts a new family that works
  const fresh = await obtain(s, creds);
  assert.equal((await post(s, '/api/token/refresh/', { refresh: fresh.refresh })).status, 200);
  await s.stop();
});

test('revoke and blacklist end the family; unknown tokens answer 200 too', async () => {
  for (const path of ['/api/token/revoke/', '/api/token/blacklist/']) {
    const t = await obtain();
    const r = await post(server, path, { refresh: t.refresh });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {});
    expectTokenError(await post(server, '/api/token/refresh/', { refresh: t.refresh }));
    assert.equal((await post(server, path, { refresh: 'A'.repeat(43) })).status, 200);
  }
});

test('password change and reset revoke every refresh token family of the user', async () => {
  const s = await startServer();
  const creds = await registerAndConfirm(s);
  const a = await obtain(s, creds);
  const b = await obtain(s, creds);
  const cookie = await loginOk(s, creds);
  const newPassword = 'an entirely new passphrase 77';
  const ch = await post(s, '/users/change-password/', { current_password: creds.password, new_password: newPassword }, { cookie });
  assert.equal(ch.status, 200, ch.text);
  for (const t of [a, b]) expectTokenError(await post(s, '/api/token/refresh/', { refresh: t.refresh }));
  await s.stop();
});

// ---------------------------------------------------------------- OAuth clients

test('client_credentials gives a confidential client a token whose sub is the client', async () => {
  const svc = client(server, ['--name', 'reports', '--confidential', '--grant', 'client_credentials']);
  assert.match(svc.secret, /^[A-Za-z0-9_-]{43}$/);
  for (const auth of ['basic', 'post']) {
    const r = auth === 'basic'
      ? await form(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(svc) })
      : await form(server, '/oauth/token', { grant_type: 'client_credentials', client_id: svc.id, client_secret: svc.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.refresh_token, undefined);
    const claims = decodePart(r.body.access_token, 1);
    assert.equal(claims.sub, svc.id);
    assert.equal(claims.client_id, svc.id);
    assert.equal(claims.email, undefined);
  }
});

test('a public client refreshes with grant_type=refresh_token', async () => {
  const app = client(server, ['--name', 'mobile', '--grant', 'refresh_token']);
  assert.equal(app.secret, undefined, 'a public client has no secret');
  const t = await obtain();
  const r = await form(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: app.id });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.refresh_token && r.body.refresh_token !== t.refresh);
});

test('OAuth errors: invalid_client, invalid_grant, unsupported_grant_type, unauthorized_client', async () => {
  const svc = client(server, ['--name', 'svc2', '--confidential', '--grant', 'client_credentials']);
  const pub = client(server, ['--name', 'pub2', '--grant', 'refresh_token']);
  const cases = [
    [{ grant_type: 'client_credentials' }, { authorization: basic({ id: svc.id, secret: 'x'.repeat(43) }) }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials' }, { authorization: basic({ id: 'no-such-client', secret: svc.secret }) }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: svc.id }, {}, 401, 'invalid_client'],
    [{ grant_type: 'password', client_id: pub.id }, {}, 400, 'unsupported_grant_type'],
    [{ grant_type: 'client_credentials', client_id: pub.id }, {}, 400, 'unauthorized_client'],
    [{ grant_type: 'refresh_token', client_id: pub.id, refresh_token: 'A'.repeat(43) }, {}, 400, 'invalid_grant'],
    [{ grant_type: 'refresh_token', client_id: pub.id }, {}, 400, 'invalid_request'],
    [{ client_id: pub.id }, {}, 400, 'invalid_request'],
  ];
  for (const [fields, headers, status, code] of cases) {
    const r = await form(server, '/oauth/token', fields, headers);
    assert.equal(r.status, status, `${JSON.stringify(fields)}: ${r.text}`);
    assert.equal(r.body.error, code);
    assert.equal(typeof r.body.error_description, 'string');
  }
  const basicFail = await form(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic({ id: svc.id, secret: 'y'.repeat(43) }) });
  assert.match(basicFail.headers.get('www-authenticate') || '', /^Basic /);
});

test('introspection: active for valid tokens, the same inactive answer for the rest', async () => {
  const svc = client(server, ['--name', 'rs', '--confidential', '--grant', 'client_credentials']);
  const t = await obtain();
  const active = await form(server, '/oauth/introspect', { token: t.access }, { authorization: basic(svc) });
  assert.equal(active.status, 200, active.text);
  assert.equal(active.body.active, true);
  assert.equal(active.body.sub, decodePart(t.access, 1).sub);
  const refreshActive = await form(server, '/oauth/introspect', { token: t.refresh }, { authorization: basic(svc) });
  assert.equal(refreshActive.body.active, true);
  await post(server, '/api/token/revoke/', { refresh: t.refresh });
  const inactive = [];
  for (const token of [t.refresh, 'A'.repeat(43), `${t.access}x`, 'garbage'])
    inactive.push(await form(server, '/oauth/introspect', { token }, { authorization: basic(svc) }));
  for (const r of inactive) {
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"active":false}');
  }
  const pub = client(server, ['--name', 'pub3', '--grant', 'refresh_token']);
  const r = await form(server, '/oauth/introspect', { token: t.access, client_id: pub.id });
  assert.equal(r.status, 401, 'a public client may not introspect');
});

test('/oauth/revoke revokes a refresh token family and answers 200 for anything else', async () => {
  const pub = client(server, ['--name', 'pub4', '--grant', 'refresh_token']);
  const t = await obtain();
  const r = await form(server, '/oauth/revoke', { token: t.refresh, client_id: pub.id });
  assert.equal(r.status, 200, r.text);
  expectTokenError(await post(server, '/api/token/refresh/', { refresh: t.refresh }));
  assert.equal((await form(server, '/oauth/revoke', { token: t.access, client_id: pub.id })).status, 200);
  assert.equal((await form(server, '/oauth/revoke', { token: 'nonsense', client_id: pub.id })).status, 200);
});

// ---------------------------------------------------------------- metadata, keys

test('the metadata documents name the issuer, the endpoints and the algorithm', async () => {
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const r = await get(server, path);
    assert.equal(r.status, 200);
    assert.equal(r.body.issuer, server.url);
    assert.equal(r.body.jwks_uri, `${server.url}/.well-known/jwks.json`);
    assert.equal(r.body.token_endpoint, `${server.url}/oauth/token`);
    assert.equal(r.body.introspection_endpoint, `${server.url}/oauth/introspect`);
    assert.equal(r.body.revocation_endpoint, `${server.url}/oauth/revoke`);
    assert.deepEqual(r.body.id_token_signing_alg_values_supported, ['ES256']);
  }
});

test('keys rotate: the new key is published at once, signs later; old tokens keep verifying', async () => {
  const s = await startServer({ env: { GATEHOUSE_KEY_RELOAD_SECONDS: '1' } });
  const creds = await registerAndConfirm(s);
  const before = await obtain(s, creds);
  const oldKid = decodePart(before.access, 0).kid;
  const out = cli(s, ['keys', 'rotate']);
  const newKid = /kid=(\S+)/.exec(out)[1];
  assert.notEqual(newKid, oldKid);
  await sleep(1500);
  const kids = (await get(s, '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
  assert.ok(kids.includes(newKid) && kids.includes(oldKid), 'both published');
  await sleep(1200); // past 2 × the reload interval
  const after = await obtain(s, creds);
  assert.equal(decodePart(after.access, 0).kid, newKid, 'the new key signs now');
  assert.equal((await post(s, '/api/token/verify/', { token: before.access })).status, 200, 'the old key still verifies');
  await s.stop();
});

test('with GATEHOUSE_JWT_ALG=EdDSA tokens are Ed25519 and ES256 tokens are refused', async () => {
  const s = await startServer({ env: { GATEHOUSE_JWT_ALG: 'EdDSA' } });
  const creds = await registerAndConfirm(s);
  const t = await obtain(s, creds);
  assert.equal(decodePart(t.access, 0).alg, 'EdDSA');
  const jwk = (await get(s, '/.well-known/jwks.json')).body.keys.find((k) => k.kid === decodePart(t.access, 0).kid);
  assert.equal(jwk.kty, 'OKP');
  assert.equal(jwk.crv, 'Ed25519');
  expectTokenError(await post(s, '/api/token/verify/', { token: (await obtain()).access }));
  await s.stop();
});

test('private keys are sealed in the database when GATEHOUSE_KEY_ENCRYPTION_KEY is set', async () => {
  const kek = 'a key encryption key of more than thirty-two characters';
  const s = await startServer({ env: { GATEHOUSE_KEY_ENCRYPTION_KEY: kek } });
  const creds = await registerAndConfirm(s);
  await obtain(s, creds);
  const rows = sql(s.dataDir, 'SELECT private_key FROM signing_keys');
  assert.ok(rows.length >= 1);
  for (const row of rows) assert.match(row.private_key, /^enc1:/);
  await s.stop();
  // the same database without the key cannot start: it cannot read its signing keys
  await assert.rejects(startServer({ dataDir: s.dataDir, env: { GATEHOUSE_KEY_ENCRYPTION_KEY: '' } }));
});

// ---------------------------------------------------------------- CORS

test('CORS: an allowed origin gets preflights and Access-Control-Allow-Origin, others nothing', async () => {
  const s = await startServer({ env: { GATEHOUSE_CORS_ORIGINS: 'https://spa.example' } });
  const pre = await request(s, 'OPTIONS', '/api/token/', { headers: { origin: 'https://spa.example', 'access-control-request-method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://spa.example');
  assert.match(pre.headers.get('access-control-allow-methods') || '', /POST/);
  assert.match(pre.headers.get('access-control-allow-headers') || '', /Authorization/i);
  const other = await request(s, 'OPTIONS', '/api/token/', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(other.headers.get('access-control-allow-methods'), null);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const creds = await registerAndConfirm(s);
  const t = await post(s, '/api/token/', { email: creds.email, password: creds.password }, { headers: { origin: 'https://spa.example' } });
  assert.equal(t.status, 200, t.text);
  assert.equal(t.headers.get('access-control-allow-origin'), 'https://spa.example');
  assert.equal(t.headers.get('access-control-allow-credentials'), null);
  const evil = await post(s, '/api/token/', { email: creds.email, password: creds.password }, { headers: { origin: 'https://evil.example' } });
  expectError(evil, 403, 'bad_origin');
  // the routes that take a Bearer token are open to the SPA too
  for (const [path, method] of [['/users/current-user/', 'GET'], ['/users/update-user/', 'PATCH'], ['/users/sessions/', 'GET']]) {
    const p = await request(s, 'OPTIONS', path, { headers: { origin: 'https://spa.example', 'access-control-request-method': method, 'access-control-request-headers': 'authorization' } });
    assert.equal(p.status, 204, `preflight of ${method} ${path}: ${p.status} ${p.text}`);
    assert.equal(p.headers.get('access-control-allow-origin'), 'https://spa.example', path);
    assert.match(p.headers.get('access-control-allow-methods') || '', new RegExp(method), path);
  }
  const me = await get(s, '/users/current-user/', { headers: { origin: 'https://spa.example', authorization: `Bearer ${t.body.access}` } });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.headers.get('access-control-allow-origin'), 'https://spa.example');
  const upd = await request(s, 'PATCH', '/users/update-user/', {
    body: new URLSearchParams({ first_name: 'Grace' }).toString(),
    headers: { origin: 'https://spa.example', authorization: `Bearer ${t.body.access}`, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.headers.get('access-control-allow-origin'), 'https://spa.example');
  // a cookie request from the SPA origin is still refused: CORS is for Bearer clients
  const cookie = await loginOk(s, creds);
  const viaCookie = await request(s, 'DELETE', '/users/sessions/00000000-0000-4000-8000-000000000000/', { cookie, headers: { origin: 'https://spa.example' } });
  expectError(viaCookie, 403, 'bad_origin');
  await s.stop();
});

// ---------------------------------------------------------------- bad input

test('bad input on every token route is a clear 4xx and changes nothing', async () => {
  for (const path of ['/api/token/', '/api/token/refresh/', '/api/token/verify/', '/api/token/revoke/', '/api/token/blacklist/']) {
    const malformed = await request(server, 'POST', path, { body: '{"refresh":', headers: { 'content-type': 'application/json' } });
    expectError(malformed, 400, 'invalid_json');
    expectError(await post(server, path, {}), 400, 'missing_field');
    expectError(await post(server, path, { refresh: 5, token: 5, email: 5, password: 5 }), 400);
    expectError(await request(server, 'POST', path, { body: 'x'.repeat(70 * 1024), headers: { 'content-type': 'application/json' } }), 413, 'body_too_large');
    expectError(await get(server, path), 405, 'method_not_allowed');
  }
  for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
    const r = await request(server, 'POST', path, { body: '{"grant_type":"client_credentials"}', headers: { 'content-type': 'application/json' } });
    assert.ok([400, 415].includes(r.status), `${path}: ${r.status}`);
    const dup = await form(server, path, 'grant_type=a&grant_type=b');
    assert.equal(dup.status, 400, `${path} duplicate field: ${dup.text}`);
    expectError(await get(server, path), 405, 'method_not_allowed');
  }
  assert.equal((await get(server, '/health-check/')).status, 200);
  assert.equal((await obtain()).token_type, 'Bearer');
});

test('many parallel wrong passwords on /api/token/ are limited like logins, counted first', async () => {
  const s = await startServer({ defaultRateLimits: true, env: { GATEHOUSE_RATE_IP_MAX: '1000' } });
  const creds = await registerAndConfirm(s);
  const answers = await Promise.all(Array.from({ length: 30 }, () => post(s, '/api/token/', { email: creds.email, password: 'not the password 1' })));
  const unauthorized = answers.filter((a) => a.status === 401).length;
  const limited = answers.filter((a) => a.status === 429).length;
  assert.ok(unauthorized <= 10, `at most 10 verified, got ${unauthorized}`);
  assert.equal(unauthorized + limited, 30);
  await s.stop();
});
