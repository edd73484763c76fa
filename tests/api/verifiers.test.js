// Access tokens as other services see them: two verifiers that share no code with gatehouse —
// npm `jose` (createRemoteJWKSet + jwtVerify) and Debian's PyJWT (PyJWKClient + jwt.decode) —
// read the JWKS over HTTP from a real server and must accept its tokens and refuse the classic
// forgeries, for ES256 and EdDSA alike, across a key rotation and after expiry. Nothing here is
// signed by the test: every valid token comes from the server, every invalid one is a valid
// token taken apart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, createPublicKey } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  startServer, cleanup, get, post, registerAndConfirm, waitUntil, sleep, GATEHOUSE_BIN,
} from '../support/server.js';

/** Debian's interpreter: the one that sees python3-jwt and python3-cryptography. */
const PYTHON = '/usr/bin/python3';

/**
 * PyJWT as a service would use it: the key named by the token's kid from the JWKS, the
 * algorithm pinned, issuer and audience checked, the registered claims required. Reads a JSON
 * list of tokens on stdin, prints one result per token.
 */
const PYJWT_VERIFY = `
import json, sys
import jwt
url, issuer, audience, alg = sys.argv[1:5]
client = jwt.PyJWKClient(url)
out = []
for token in json.load(sys.stdin):
    try:
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=[alg], audience=audience, issuer=issuer,
                            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]})
        out.append({"ok": True, "sub": claims["sub"], "kid": key.key_id})
    except Exception as e:
        out.append({"ok": False, "error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
`;

const ALGS = ['ES256', 'EdDSA'];
const TTL = 30; // GATEHOUSE_ACCESS_TOKEN_TTL of these servers, its minimum
const setups = {}; // alg → {s, creds, first: {token, exp, jose, pyjwt}}

const jwksUrl = (s) => `${s.url}/.well-known/jwks.json`;
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const part = (token, i) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8'));

async function obtain(s, creds) {
  const r = await post(s, '/api/token/', { email: creds.email, password: creds.password });
  assert.equal(r.status, 200, `obtain: ${r.status} ${r.text}`);
  return r.body;
}

/** jose's verdict on one token: {ok, sub, kid} or {ok: false, error: code}. opts.jwks reuses a
 * key set (and its cache); opts.algorithms null leaves the algorithm to the JWKS. */
async function joseVerify(s, token, alg, opts = {}) {
  const jwks = opts.jwks || createRemoteJWKSet(new URL(jwksUrl(s)));
  const audience = opts.audience || s.url;
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: s.url,
      audience,
      ...(opts.algorithms === null ? {} : { algorithms: [alg] }),
      requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'],
    });
    return { ok: true, sub: payload.sub, kid: protectedHeader.kid };
  } catch (err) {
    return { ok: false, error: err.code || err.message };
  }
}

/** PyJWT's verdicts on a list of tokens (one interpreter for the lot). */
function pyjwtVerify(s, tokens, alg, { audience = s.url } = {}) {
  const out = execFileSync(PYTHON, ['-c', PYJWT_VERIFY, jwksUrl(s), s.url, audience, alg], {
    input: JSON.stringify(tokens), encoding: 'utf8', timeout: 30_000,
  });
  const results = JSON.parse(out);
  assert.equal(results.length, tokens.length);
  return results;
}

/** Asserts both verifiers refuse every token, jose with one of joseCodes and PyJWT with one of
 * pyErrors (so a refusal for the wrong reason — a network error, say — fails the test). */
async function assertBothRefuse(s, alg, tokens, joseCodes, pyErrors, joseOpts = {}) {
  const py = pyjwtVerify(s, Object.values(tokens), alg);
  let i = 0;
  for (const [name, token] of Object.entries(tokens)) {
    const j = await joseVerify(s, token, alg, joseOpts);
    assert.equal(j.ok, false, `jose accepted ${name}`);
    assert.ok(joseCodes.includes(j.error), `jose refused ${name} with ${j.error}, expected one of ${joseCodes}`);
    const p = py[i++];
    assert.equal(p.ok, false, `PyJWT accepted ${name}`);
    assert.ok(pyErrors.includes(p.error), `PyJWT refused ${name} with ${p.error} (${p.message}), expected one of ${pyErrors}`);
  }
}

before(async () => {
  for (const alg of ALGS) {
    const s = await startServer({
      env: { GATEHOUSE_JWT_ALG: alg, GATEHOUSE_ACCESS_TOKEN_TTL: String(TTL), GATEHOUSE_KEY_RELOAD_SECONDS: '1' },
    });
    const creds = await registerAndConfirm(s);
    // A token checked now and again once it has expired (the last test), so the wait for its
    // expiry overlaps the other tests.
    const t = await obtain(s, creds);
    const first = { token: t.access, exp: part(t.access, 1).exp };
    first.jose = await joseVerify(s, first.token, alg);
    [first.pyjwt] = pyjwtVerify(s, [first.token], alg);
    setups[alg] = { s, creds, first };
  }
});

after(cleanup);

for (const alg of ALGS) {
  test(`${alg}: jose and PyJWT accept a fresh access token from the JWKS, checking issuer and audience`, async () => {
    const { s, creds } = setups[alg];
    const meta = (await get(s, '/.well-known/openid-configuration')).body;
    assert.equal(meta.issuer, s.url);
    assert.equal(meta.jwks_uri, jwksUrl(s));
    const t = await obtain(s, creds);
    assert.equal(part(t.access, 0).alg, alg);
    const me = await get(s, '/users/current-user/', { headers: { authorization: `Bearer ${t.access}` } });
    assert.equal(me.status, 200, me.text);

    const j = await joseVerify(s, t.access, alg);
    assert.deepEqual(j, { ok: true, sub: me.body.id, kid: part(t.access, 0).kid });
    const [p] = pyjwtVerify(s, [t.access], alg);
    assert.deepEqual(p, { ok: true, sub: me.body.id, kid: part(t.access, 0).kid });
    // with the JWKS choosing the algorithm (no list given), jose accepts it too
    assert.equal((await joseVerify(s, t.access, alg, { algorithms: null })).ok, true);

    // the checks are on: another audience is refused by both
    const other = 'https://other-service.example';
    const jo = await joseVerify(s, t.access, alg, { audience: other });
    assert.deepEqual(jo, { ok: false, error: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    const [po] = pyjwtVerify(s, [t.access], alg, { audience: other });
    assert.equal(po.error, 'InvalidAudienceError', po.message);
  });

  test(`${alg}: both refuse a tampered token`, async () => {
    const { s, creds } = setups[alg];
    const t = await obtain(s, creds);
    const [h, p, sig] = t.access.split('.');
    const claims = part(t.access, 1);
    const sigBytes = Buffer.from(sig, 'base64url');
    sigBytes[10] ^= 0x01;
    const tokens = {
      'a changed claim': `${h}.${enc({ ...claims, is_staff: true })}.${sig}`,
      'another subject': `${h}.${enc({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })}.${sig}`,
      'a later expiry': `${h}.${enc({ ...claims, exp: claims.exp + 86400 })}.${sig}`,
      'a flipped signature bit': `${h}.${p}.${sigBytes.toString('base64url')}`,
      'a truncated signature': `${h}.${p}.${sig.slice(0, -4)}`,
    };
    await assertBothRefuse(s, alg, tokens, ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWS_INVALID'],
      ['InvalidSignatureError', 'DecodeError']);
    // a kid the JWKS does not have
    await assertBothRefuse(s, alg, { 'an unknown kid': `${enc({ ...part(t.access, 0), kid: 'no-such-key' })}.${p}.${sig}` },
      ['ERR_JWKS_NO_MATCHING_KEY'], ['PyJWKClientError']);
  });

  test(`${alg}: both refuse alg "none"`, async () => {
    const { s, creds } = setups[alg];
    const t = await obtain(s, creds);
    const [, p, sig] = t.access.split('.');
    const { kid } = part(t.access, 0);
    const tokens = {};
    for (const none of ['none', 'None', 'NONE']) {
      tokens[`alg ${none}, no signature`] = `${enc({ alg: none, typ: 'JWT', kid })}.${p}.`;
      tokens[`alg ${none}, the real signature`] = `${enc({ alg: none, typ: 'JWT', kid })}.${p}.${sig}`;
    }
    await assertBothRefuse(s, alg, tokens, ['ERR_JOSE_ALG_NOT_ALLOWED'], ['InvalidAlgorithmError']);
    // without an algorithm list jose still finds no key in the JWKS for it
    await assertBothRefuse(s, alg, { 'alg none': tokens['alg none, no signature'] },
      ['ERR_JOSE_NOT_SUPPORTED'], ['InvalidAlgorithmError'], { algorithms: null });
    assert.equal((await post(s, '/api/token/verify/', { token: tokens['alg none, no signature'] })).status, 401);
  });

  test(`${alg}: both refuse HS256 signed with the public key's text (algorithm confusion)`, async () => {
    const { s, creds } = setups[alg];
    const t = await obtain(s, creds);
    const p = t.access.split('.')[1];
    const { kid } = part(t.access, 0);
    const jwksText = (await get(s, '/.well-known/jwks.json')).text;
    const jwk = JSON.parse(jwksText).keys.find((k) => k.kid === kid);
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const secrets = {
      'the PEM': pem,
      'the PEM without its last newline': pem.trimEnd(),
      'the DER': der,
      'the JWK as JSON': JSON.stringify(jwk),
      'the JWKS document as served': jwksText,
      'the x coordinate': Buffer.from(jwk.x, 'base64url'),
    };
    const tokens = {};
    for (const [hmacAlg, hash] of [['HS256', 'sha256'], ['HS512', 'sha512']]) {
      const head = enc({ alg: hmacAlg, typ: 'JWT', kid });
      for (const [what, secret] of Object.entries(secrets))
        tokens[`${hmacAlg} with ${what}`] = `${head}.${p}.${createHmac(hash, secret).update(`${head}.${p}`).digest('base64url')}`;
    }
    await assertBothRefuse(s, alg, tokens, ['ERR_JOSE_ALG_NOT_ALLOWED'], ['InvalidAlgorithmError']);
    // jose without an algorithm list: the JWKS has no symmetric key to try
    await assertBothRefuse(s, alg, tokens, ['ERR_JOSE_NOT_SUPPORTED', 'ERR_JWKS_NO_MATCHING_KEY'],
      ['InvalidAlgorithmError'], { algorithms: null });
    for (const token of Object.values(tokens).slice(0, 2))
      assert.equal((await post(s, '/api/token/verify/', { token })).status, 401, 'gatehouse refuses it too');
  });

  test(`${alg}: a token signed before keys rotate keeps verifying while valid, and the new key verifies`, async () => {
    const { s, creds } = setups[alg];
    const older = await obtain(s, creds);
    const oldKid = part(older.access, 0).kid;
    // a verifier that fetched the JWKS before the rotation and keeps its cache
    const cached = createRemoteJWKSet(new URL(jwksUrl(s)), { cooldownDuration: 500 });
    assert.equal((await joseVerify(s, older.access, alg, { jwks: cached })).ok, true);

    const out = execFileSync(GATEHOUSE_BIN, ['keys', 'rotate'], { env: s.env, cwd: s.dataDir, encoding: 'utf8' });
    const newKid = /kid=(\S+)/.exec(out)[1];
    assert.notEqual(newKid, oldKid);
    // published within the reload interval, signing from twice it
    await waitUntil(async () => (await get(s, '/.well-known/jwks.json')).body.keys.some((k) => k.kid === newKid),
      { timeoutMs: 5000, what: 'the new key in the JWKS' });
    let refresh = older.refresh;
    const newer = await waitUntil(async () => {
      const r = await post(s, '/api/token/refresh/', { refresh });
      assert.equal(r.status, 200, r.text);
      refresh = r.body.refresh;
      return part(r.body.access, 0).kid === newKid ? r.body : (await sleep(200), null);
    }, { timeoutMs: 8000, what: 'a token signed with the new key' });
    const kids = (await get(s, '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.includes(newKid), `both keys published: ${kids}`);

    // the old token: with the cache from before, with a fresh fetch, and with PyJWT
    for (const jwks of [cached, undefined]) {
      const r = await joseVerify(s, older.access, alg, { jwks });
      assert.deepEqual(r, { ok: true, sub: part(older.access, 1).sub, kid: oldKid });
    }
    const [pOld, pNew] = pyjwtVerify(s, [older.access, newer.access], alg);
    assert.equal(pOld.ok, true, pOld.message);
    assert.equal(pOld.kid, oldKid);
    assert.equal(pNew.ok, true, pNew.message);
    assert.equal(pNew.kid, newKid);
    // the new token: the old cache fetches the JWKS again for the unknown kid
    await sleep(600); // jose's cooldown between two fetches of this set
    assert.deepEqual(await joseVerify(s, newer.access, alg, { jwks: cached }), { ok: true, sub: part(newer.access, 1).sub, kid: newKid });
    assert.equal((await joseVerify(s, newer.access, alg)).ok, true);
  });
}

test('both refuse the tokens once they have expired (ES256 and EdDSA)', async () => {
  for (const alg of ALGS) {
    const { first } = setups[alg];
    assert.equal(first.jose.ok, true, `jose accepted the token while fresh: ${first.jose.error}`);
    assert.equal(first.pyjwt.ok, true, `PyJWT accepted the token while fresh: ${first.pyjwt.message}`);
  }
  const latest = Math.max(...ALGS.map((alg) => setups[alg].first.exp));
  const wait = (latest + 1) * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
  for (const alg of ALGS) {
    const { s, first } = setups[alg];
    assert.ok(Date.now() / 1000 > first.exp, 'past exp');
    assert.deepEqual(await joseVerify(s, first.token, alg), { ok: false, error: 'ERR_JWT_EXPIRED' });
    const [p] = pyjwtVerify(s, [first.token], alg);
    assert.equal(p.ok, false);
    assert.equal(p.error, 'ExpiredSignatureError', p.message);
  }
});
