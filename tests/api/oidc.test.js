// Sign in with an OpenID Connect provider, against a real provider (oidc-provider) on a loopback
// port: the first login makes an account, later ones find it by subject, a verified email links
// a local account (and takes an unconfirmed one away from whoever registered it), unlinking
// keeps a way in; and every hostile turn — states, nonces, keys, audiences, issuers, expiry, a
// refusing, dead or hanging provider, foreign next values — ends on the error page, never in a
// login. The crafted ID tokens come from a small hostile provider (tests/support/oidc.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID, createPublicKey } from 'node:crypto';
import {
  startServer, cleanup, get, post, request, expectError, expectMessage, register, registerAndConfirm,
  login, loginOk, currentUser, randomEmail, sql, sqlQuote, PASSWORD,
} from '../support/server.js';
import {
  startOidcProvider, startHostileProvider, Browser, walkToCallback, walkHostile, providerEnv,
  privateJwk, publicJwk, signJwt, signHs256,
} from '../support/oidc.js';

const TIMEOUT = 2; // GATEHOUSE_OIDC_TIMEOUT of the server under test, seconds

const REASON = {
  state: /not started here or took too long/,
  denied: /cancelled or refused/,
  provider: /could not be reached/,
  token: /could not be verified/,
  email: /did not confirm your email/,
};

let op; // the real provider; the scope's claims come from its UserInfo endpoint
let opid; // a real provider that puts them in the ID token, as Google does
let opdown; // a real provider that is stopped in the middle of a login
let opjwks; // a real provider whose published JWKS does not hold the key it signs with
let hostile; // crafted ID tokens
let gh;

before(async () => {
  [op, opid, opdown, opjwks, hostile] = await Promise.all([
    startOidcProvider(), startOidcProvider({ idTokenClaims: true }), startOidcProvider(), startOidcProvider(),
    startHostileProvider(),
  ]);
  // Under the kid of its RS256 key, opjwks publishes another key.
  const signing = await (await fetch(`${opjwks.issuer}/jwks`)).json();
  const rsaKid = signing.keys.find((k) => k.kty === 'RSA').kid;
  opjwks.publishJwks({ keys: [publicJwk(privateJwk('RS256', rsaKid))] });

  const clients = {
    op: op.newClient(),
    opes: op.newClient({ id_token_signed_response_alg: 'ES256' }),
    opid: opid.newClient(),
    opdown: opdown.newClient(),
    opjwks: opjwks.newClient(),
  };
  const issuers = { op: op.issuer, opes: op.issuer, opid: opid.issuer, opdown: opdown.issuer, opjwks: opjwks.issuer };
  const providers = {};
  for (const [name, c] of Object.entries(clients)) providers[name] = { issuer: issuers[name], clientId: c.client_id, clientSecret: c.client_secret };
  providers.op.displayName = 'Test Provider';
  providers.hostile = { issuer: hostile.issuer, clientId: hostile.clientId, clientSecret: hostile.clientSecret };
  providers.gone = { issuer: 'http://127.0.0.1:9', clientId: 'nobody' }; // nothing listens there
  gh = await startServer({ env: { ...providerEnv(providers), GATEHOUSE_OIDC_TIMEOUT: String(TIMEOUT) } });
  for (const [name, c] of Object.entries(clients)) await c.register([`${gh.url}/oauth/${name}/callback/`]);
});

after(async () => {
  await cleanup();
  for (const p of [op, opid, opdown, opjwks, hostile]) if (p) await p.stop();
});

/** A fresh account at provider p: {id, email, …claims}. */
function account(p, claims = {}) {
  const id = `acct-${randomUUID()}`;
  const email = claims.email || randomEmail('op');
  p.setAccount(id, { email, given_name: 'Grace', family_name: 'Hopper', ...claims });
  return { id, email, ...claims };
}

/** A whole login at provider name (real provider) in browser; resolves with gatehouse's answer
 * to the callback, plus the callback URL. */
async function providerLogin(name, acct, { browser = new Browser(), next, nextRaw, deny } = {}) {
  const { callback } = await walkToCallback(browser, gh, name, { account: acct.id, next, nextRaw, deny });
  const r = await browser.fetch(callback);
  return Object.assign(r, { browser, callback });
}

/** A logged-in answer: 303 to {frontend}{path}, exactly one Set-Cookie, sessionid. Resolves with
 * the cookie as a request header value. */
function expectLoggedIn(r, path = '/') {
  assert.equal(r.status, 303, `callback: ${r.status} ${r.location} ${r.text}`);
  assert.equal(r.location, `${gh.url}${path}`);
  const set = r.headers.getSetCookie();
  assert.equal(set.length, 1, `exactly one Set-Cookie: ${JSON.stringify(set)}`);
  assert.match(set[0], /^sessionid=[A-Za-z0-9_-]{43,};/);
  assert.match(set[0], /HttpOnly/);
  return set[0].split(';')[0];
}

/** The error page: 303 to {frontend}/auth/error?reason=… matching reason, and no cookie. */
function expectErrorPage(r, reason) {
  assert.equal(r.status, 303, `callback: ${r.status} ${r.text}`);
  const u = new URL(r.location);
  assert.equal(`${u.origin}${u.pathname}`, `${gh.url}/auth/error`, r.location);
  assert.match(u.searchParams.get('reason') || '', reason, r.location);
  assert.deepEqual(r.headers.getSetCookie(), [], 'no cookie on a failed login');
}

const usersWithEmail = (email) => sql(gh.dataDir, `SELECT * FROM users WHERE lower(email) = lower(${sqlQuote(email)})`);
const identitiesOf = (userId) => sql(gh.dataDir, `SELECT provider, subject FROM oauth_identities WHERE user_id = ${sqlQuote(userId)} ORDER BY provider`);
const unlink = (cookie, name, headers = {}) => request(gh, 'DELETE', `/users/providers/${name}/`, { cookie, headers });

// ---------------------------------------------------------------- the list and the routes

test('GET /oauth/providers lists every configured provider with its button text and login URL', async () => {
  const r = await get(gh, '/oauth/providers');
  assert.equal(r.status, 200, r.text);
  const byName = Object.fromEntries(r.body.providers.map((p) => [p.name, p]));
  assert.deepEqual(Object.keys(byName).sort(), ['gone', 'hostile', 'op', 'opdown', 'opes', 'opid', 'opjwks']);
  assert.deepEqual(byName.op, { name: 'op', display_name: 'Test Provider', login_url: `${gh.url}/oauth/op/login/` });
  assert.equal(byName.opid.display_name, 'opid', 'the name when no display name is set');
});

test('the login route sends the browser to the provider with state, nonce, PKCE S256 and a binding cookie', async () => {
  const r = await get(gh, '/oauth/op/login/?next=/after');
  assert.equal(r.status, 303, r.text);
  const to = new URL(r.headers.get('location'));
  assert.equal(`${to.origin}${to.pathname}`, `${op.issuer}/auth`);
  const q = to.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), `${gh.url}/oauth/op/callback/`);
  assert.equal(q.get('scope'), 'openid email profile');
  assert.equal(q.get('code_challenge_method'), 'S256');
  for (const k of ['state', 'nonce', 'code_challenge']) assert.match(q.get(k) || '', /^[A-Za-z0-9_-]{43}$/, k);
  const set = r.headers.getSetCookie();
  assert.equal(set.length, 1);
  assert.match(set[0], /^gh_oidc=[A-Za-z0-9_-]{43}; Max-Age=600; HttpOnly; SameSite=Lax; Path=\/oauth\/$/);
});

test('an unknown provider is a 404 JSON answer at both routes', async () => {
  expectError(await get(gh, '/oauth/nope/login/'), 404, 'not_found');
  expectError(await get(gh, `/oauth/nope/callback/?code=x&state=${'a'.repeat(43)}`), 404, 'not_found');
});

// ---------------------------------------------------------------- accounts

test('a first login makes an active account with the names of the claims and lands on next with one session cookie', async () => {
  const a = account(op, { given_name: 'Ada', family_name: 'Byron' });
  const r = await providerLogin('op', a, { next: '/welcome?x=1' });
  const cookie = expectLoggedIn(r, '/welcome?x=1');
  const me = await currentUser(gh, cookie);
  assert.equal(me.email, a.email);
  assert.equal(me.first_name, 'Ada');
  assert.equal(me.last_name, 'Byron');
  assert.equal(me.is_active, true);
  assert.deepEqual(me.providers, ['op']);
  const [row] = usersWithEmail(a.email);
  assert.equal(row.password_hash, '', 'an account made by a provider has no password');
  assert.deepEqual(identitiesOf(me.id), [{ provider: 'op', subject: a.id }]);
  // no password to guess: a password login fails like a wrong one
  expectError((await login(gh, { email: a.email, password: PASSWORD })).r, 401);
  assert.equal(sql(gh.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'social_register' AND user_id = ${sqlQuote(me.id)}`)[0].n, 1);
});

test('a provider that puts the claims in the ID token (as Google does) works the same', async () => {
  const a = account(opid, { given_name: 'Katherine', family_name: 'Johnson' });
  const cookie = expectLoggedIn(await providerLogin('opid', a));
  const me = await currentUser(gh, cookie);
  assert.equal(me.email, a.email);
  assert.equal(me.first_name, 'Katherine');
  assert.deepEqual(me.providers, ['opid']);
});

test('ID tokens signed with ES256 verify', async () => {
  const a = account(op);
  const cookie = expectLoggedIn(await providerLogin('opes', a));
  assert.equal((await currentUser(gh, cookie)).email, a.email);
});

test('a second login finds the account by subject, even after the provider\'s email changed', async () => {
  const a = account(op);
  const first = await currentUser(gh, expectLoggedIn(await providerLogin('op', a)));
  // the address changes at the provider, even to one of another gatehouse account
  const other = await registerAndConfirm(gh);
  op.setAccount(a.id, { email: other.email });
  const again = await currentUser(gh, expectLoggedIn(await providerLogin('op', a)));
  assert.equal(again.id, first.id);
  assert.equal(again.email, a.email, 'the account keeps its address');
  op.setAccount(a.id, { email: randomEmail('moved') });
  assert.equal((await currentUser(gh, expectLoggedIn(await providerLogin('op', a)))).id, first.id);
});

test('a verified email links a confirmed local account, whose password still works', async () => {
  const creds = await registerAndConfirm(gh);
  const passwordCookie = await loginOk(gh, creds);
  const local = await currentUser(gh, passwordCookie);
  const a = account(op, { email: creds.email.toUpperCase() });
  const me = await currentUser(gh, expectLoggedIn(await providerLogin('op', a)));
  assert.equal(me.id, local.id);
  assert.equal(me.first_name, 'Ada', 'a linked account keeps its names');
  assert.deepEqual(me.providers, ['op']);
  await loginOk(gh, creds);
  assert.equal((await get(gh, '/users/current-user/', { cookie: passwordCookie })).status, 200, 'other sessions live on');
});

test('a session cookie sent along to the callback is replaced, as a password login rotates it', async () => {
  const creds = await registerAndConfirm(gh);
  const browser = new Browser();
  const old = await loginOk(gh, creds);
  browser.store(gh.url, [`${old}; Path=/; HttpOnly`]);
  const a = account(op, { email: creds.email });
  const fresh = expectLoggedIn(await providerLogin('op', a, { browser }));
  assert.notEqual(fresh, old);
  expectError(await get(gh, '/users/current-user/', { cookie: old }), 401);
});

test('pre-hijacking: an unconfirmed account registered with a password by someone else is taken over by the provider login', async () => {
  const email = randomEmail('victim');
  await register(gh, { email, password: 'attacker chose this password 1' });
  const [before] = usersWithEmail(email);
  assert.equal(before.is_active, 0);
  const a = account(op, { email });
  const me = await currentUser(gh, expectLoggedIn(await providerLogin('op', a)));
  assert.equal(me.id, before.id);
  assert.equal(me.is_active, true, 'confirmed through the provider');
  assert.equal(me.first_name, 'Grace', 'the names come from the provider, not from the registration');
  assert.equal(me.last_name, 'Hopper');
  const [after] = usersWithEmail(email);
  assert.equal(after.is_active, 1);
  assert.equal(after.password_hash, '', 'the password someone else set is gone');
  expectError((await login(gh, { email, password: 'attacker chose this password 1' })).r, 401);
  assert.equal(sql(gh.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'social_claim_unconfirmed' AND user_id = ${sqlQuote(me.id)}`)[0].n, 1);
});

test('pre-hijacking: the sessions and refresh tokens of an unconfirmed account end when the provider login claims it', async () => {
  const creds = await registerAndConfirm(gh);
  const cookie = await loginOk(gh, creds);
  const tokens = await post(gh, '/api/token/', { email: creds.email, password: creds.password });
  assert.equal(tokens.status, 200, tokens.text);
  // as if never confirmed, with credentials alive (the state a takeover must clean up)
  sql(gh.dataDir, `UPDATE users SET is_active = ${gh.env.DATABASE_URL ? 'false' : '0'} WHERE lower(email) = lower(${sqlQuote(creds.email)})`);
  const a = account(op, { email: creds.email });
  const fresh = expectLoggedIn(await providerLogin('op', a));
  assert.equal((await get(gh, '/users/current-user/', { cookie: fresh })).status, 200);
  expectError(await get(gh, '/users/current-user/', { cookie }), 401);
  expectError(await post(gh, '/api/token/refresh/', { refresh: tokens.body.refresh }), 401, 'token_not_valid');
  expectError((await login(gh, creds)).r, 401);
});

test('email_verified false makes no account and links none: the error page', async () => {
  const a = account(op, { email_verified: false });
  expectErrorPage(await providerLogin('op', a), REASON.email);
  assert.deepEqual(usersWithEmail(a.email), []);
  const creds = await registerAndConfirm(gh);
  const b = account(op, { email: creds.email, email_verified: false });
  expectErrorPage(await providerLogin('op', b), REASON.email);
  const [row] = usersWithEmail(creds.email);
  assert.deepEqual(identitiesOf(row.id), []);
  assert.equal(sql(gh.dataDir, `SELECT count(*) AS n FROM oauth_identities WHERE subject IN (${sqlQuote(a.id)}, ${sqlQuote(b.id)})`)[0].n, 0);
});

// ---------------------------------------------------------------- unlinking

test('unlink: an account with a password drops the provider; current-user lists what is linked', async () => {
  const creds = await registerAndConfirm(gh);
  const a = account(op, { email: creds.email });
  const b = account(opid, { email: creds.email });
  expectLoggedIn(await providerLogin('op', a));
  expectLoggedIn(await providerLogin('opid', b));
  const cookie = await loginOk(gh, creds);
  assert.deepEqual((await currentUser(gh, cookie)).providers.sort(), ['op', 'opid']);
  expectMessage(await unlink(cookie, 'op'));
  assert.deepEqual((await currentUser(gh, cookie)).providers, ['opid']);
  expectError(await unlink(cookie, 'op'), 404, 'not_found');
  expectMessage(await unlink(cookie, 'opid'), 200);
  assert.deepEqual((await currentUser(gh, cookie)).providers, []);
  assert.equal(sql(gh.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'social_unlink' AND lower(email) = lower(${sqlQuote(creds.email)})`)[0].n, 2);
});

test('unlink: the last way in of an account without a password is refused with 409 last_login_method', async () => {
  const a = account(op);
  const cookie = expectLoggedIn(await providerLogin('op', a));
  const b = account(opid, { email: a.email });
  expectLoggedIn(await providerLogin('opid', b));
  expectMessage(await unlink(cookie, 'opid'));
  expectError(await unlink(cookie, 'op'), 409, 'last_login_method');
  assert.deepEqual((await currentUser(gh, cookie)).providers, ['op']);
  // still the way in
  expectLoggedIn(await providerLogin('op', a));
});

test('unlink needs a signed-in caller from this site', async () => {
  expectError(await unlink(undefined, 'op'), 401);
  const a = account(op);
  const cookie = expectLoggedIn(await providerLogin('op', a));
  const r = await unlink(cookie, 'op', { origin: 'https://evil.example' });
  assert.equal(r.status, 403, r.text);
  assert.deepEqual((await currentUser(gh, cookie)).providers, ['op']);
});

// ---------------------------------------------------------------- state and browser binding

test('a wrong, missing or replayed state is refused', async () => {
  const a = account(op);
  const { callback, browser } = await (async () => {
    const b = new Browser();
    return { ...(await walkToCallback(b, gh, 'op', { account: a.id })), browser: b };
  })();
  const wrong = new URL(callback);
  wrong.searchParams.set('state', randomBytes(32).toString('base64url'));
  expectErrorPage(await browser.fetch(wrong.href), REASON.state);
  const missing = new URL(callback);
  missing.searchParams.delete('state');
  expectErrorPage(await browser.fetch(missing.href), REASON.state);
  // the real one still works once, and only once
  expectLoggedIn(await browser.fetch(callback));
  expectErrorPage(await browser.fetch(callback), REASON.state);
});

test('a login started in one browser cannot be finished in another', async () => {
  const a = account(op);
  const victim = new Browser();
  const { callback } = await walkToCallback(victim, gh, 'op', { account: a.id });
  // no binding cookie at all
  expectErrorPage(await new Browser().fetch(callback), REASON.state);
  // a binding cookie of its own login
  const attacker = new Browser();
  await attacker.fetch(`${gh.url}/oauth/op/login/`);
  assert.ok(attacker.cookie('gh_oidc'));
  expectErrorPage(await attacker.fetch(callback), REASON.state);
  // the state was spent by the first try: single use, whoever used it
  expectErrorPage(await victim.fetch(callback), REASON.state);
  assert.deepEqual(usersWithEmail(a.email), []);
});

test('a state of one provider is refused at another provider\'s callback', async () => {
  const a = account(op);
  const browser = new Browser();
  const { callback } = await walkToCallback(browser, gh, 'op', { account: a.id });
  const elsewhere = callback.replace('/oauth/op/callback/', '/oauth/opid/callback/');
  expectErrorPage(await browser.fetch(elsewhere), REASON.state);
});

test('the provider\'s error=access_denied ends on the error page', async () => {
  const a = account(op);
  const r = await providerLogin('op', a, { deny: true });
  assert.equal(new URL(r.callback).searchParams.get('error'), 'access_denied');
  expectErrorPage(r, REASON.denied);
  assert.deepEqual(usersWithEmail(a.email), []);
});

test('hostile next values are ignored: the login lands on /', async () => {
  const a = account(op);
  for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)',
    '\\/evil.example', '/\r\nSet-Cookie: x=1', ' /x', 'evil.example', `/${'a'.repeat(600)}`]) {
    expectLoggedIn(await providerLogin('op', a, { next }), '/');
  }
  // bytes that are not UTF-8 are not a path either (and no reason to fail the login)
  expectLoggedIn(await providerLogin('op', a, { nextRaw: '/%FF%FE' }), '/');
  // a good one is kept, query and all
  expectLoggedIn(await providerLogin('op', a, { next: '/search?q=a%26b&page=2' }), '/search?q=a%26b&page=2');
});

// ---------------------------------------------------------------- crafted ID tokens

/** A login at the hostile provider whose next ID token is shaped by shape. */
async function hostileLogin(shape, claims = {}) {
  const email = randomEmail('hostile');
  hostile.setAccount({ sub: `h-${randomUUID()}`, email, given_name: 'Mallory', family_name: 'Hostile', ...claims });
  hostile.next(shape);
  const browser = new Browser();
  const { callback } = await walkHostile(browser, gh, 'hostile');
  const r = await browser.fetch(callback);
  return Object.assign(r, { email });
}

test('control: the hostile provider\'s unshaped ID token is a correct one (it logs in)', async () => {
  const r = await hostileLogin(null);
  expectLoggedIn(r);
  assert.equal(usersWithEmail(r.email).length, 1);
});

const now = () => Math.floor(Date.now() / 1000);
const CRAFTED = {
  'a nonce of another login': () => ({ claims: { nonce: randomBytes(32).toString('base64url') } }),
  'no nonce': () => ({ claims: { nonce: undefined } }),
  'a key not in the JWKS (unknown kid)': () => ({ key: 'unpublished' }),
  'a key not in the JWKS (under the published kid)': () => ({ key: 'unpublished', header: { kid: hostile.keys.published.kid } }),
  'another audience': () => ({ claims: { aud: 'someone-else' } }),
  'several audiences without azp': () => ({ claims: { aud: [hostile.clientId, 'someone-else'] } }),
  'an azp that is not us': () => ({ claims: { azp: 'someone-else' } }),
  'another issuer': () => ({ claims: { iss: 'http://evil.example' } }),
  'the issuer with a trailing slash': () => ({ claims: { iss: `${hostile.issuer}/` } }),
  'an expiry an hour ago': () => ({ claims: { iat: now() - 7200, exp: now() - 3600 } }),
  'an issue time an hour ahead': () => ({ claims: { iat: now() + 3600, exp: now() + 7200 } }),
  'no sub': () => ({ claims: { sub: undefined } }),
  'alg none': () => ({ token: (c) => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.` }),
  'HS256 keyed with the public key (algorithm confusion)': () => ({
    token: (c, { published }) => signHs256(c, createPublicKey({ key: publicJwk(published), format: 'jwk' }).export({ type: 'spki', format: 'pem' }), { kid: published.kid }),
  }),
  'an ES256 header over an RS256 signature': () => ({ token: (c, { published }) => {
    const t = signJwt(c, published).split('.');
    return [Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: published.kid })).toString('base64url'), t[1], t[2]].join('.');
  } }),
  'a signature of other claims': () => ({ token: (c, { published }) => {
    const good = signJwt(c, published).split('.');
    const other = signJwt({ ...c, sub: 'admin' }, published).split('.');
    return [good[0], other[1], good[2]].join('.');
  } }),
};

for (const [what, shape] of Object.entries(CRAFTED)) {
  test(`an ID token with ${what} is refused: the error page, no account`, async () => {
    const r = await hostileLogin(shape());
    expectErrorPage(r, REASON.token);
    assert.deepEqual(usersWithEmail(r.email), []);
  });
}

test('the UserInfo answer of another subject is not used', async () => {
  const r = await hostileLogin({ claims: { email: undefined, email_verified: undefined }, userinfo: { sub: 'someone-else' } });
  expectErrorPage(r, REASON.token);
  assert.deepEqual(usersWithEmail(r.email), []);
});

test('control: an ID token without the email takes it from UserInfo when the subject matches', async () => {
  const r = await hostileLogin({ claims: { email: undefined, email_verified: undefined, given_name: undefined } });
  const me = await currentUser(gh, expectLoggedIn(r));
  assert.equal(me.email, r.email);
  assert.equal(me.first_name, 'Mallory');
});

test('an email the ID token calls unverified is not made verified by UserInfo', async () => {
  const r = await hostileLogin({ claims: { email_verified: false }, userinfo: { email_verified: true } });
  expectErrorPage(r, REASON.email);
  assert.deepEqual(usersWithEmail(r.email), []);
});

test('a real provider whose JWKS does not hold its signing key: refused', async () => {
  const a = account(opjwks);
  expectErrorPage(await providerLogin('opjwks', a), REASON.token);
  assert.deepEqual(usersWithEmail(a.email), []);
});

// ---------------------------------------------------------------- a provider down or slow

test('a provider that cannot be reached at the start of a login: the error page, not a 500', async () => {
  const r = await get(gh, '/oauth/gone/login/');
  assert.equal(r.status, 303, r.text);
  assert.match(decodeURIComponent(r.headers.get('location')), /\/auth\/error\?reason=.*could not be reached/);
  assert.deepEqual(r.headers.getSetCookie(), []);
});

test('a provider that goes down during the login: the error page quickly', async () => {
  const a = account(opdown);
  const browser = new Browser();
  const { callback } = await walkToCallback(browser, gh, 'opdown', { account: a.id });
  await opdown.stop();
  const started = Date.now();
  const r = await browser.fetch(callback);
  expectErrorPage(r, REASON.provider);
  assert.ok(Date.now() - started < TIMEOUT * 1000 + 1500, `answered in ${Date.now() - started} ms`);
});

test('a provider that hangs: the error page within the timeout, and the server answers meanwhile', async () => {
  const a = account(op);
  const browser = new Browser();
  const { callback } = await walkToCallback(browser, gh, 'op', { account: a.id });
  op.hold((req) => req.url.startsWith('/token'));
  try {
    const started = Date.now();
    const pending = browser.fetch(callback);
    // while the exchange hangs, other requests are answered at once
    const creds = await registerAndConfirm(gh);
    const t0 = Date.now();
    await loginOk(gh, creds);
    assert.equal((await get(gh, '/health-check/')).status, 200);
    assert.ok(Date.now() - t0 < 1500, `a password login took ${Date.now() - t0} ms during the hang`);
    const r = await pending;
    const took = Date.now() - started;
    expectErrorPage(r, REASON.provider);
    assert.ok(took >= TIMEOUT * 1000 - 200 && took < TIMEOUT * 1000 + 1500, `answered in ${took} ms`);
  } finally {
    op.release();
  }
  // and the provider is usable again
  expectLoggedIn(await providerLogin('op', account(op)));
});

test('logins at a hanging provider wait side by side, not one after the other', async () => {
  // a server of its own: nothing discovered yet, so each login start asks the provider
  const c = op.newClient();
  const s = await startServer({ env: { ...providerEnv({ op: { issuer: op.issuer, clientId: c.client_id, clientSecret: c.client_secret } }), GATEHOUSE_OIDC_TIMEOUT: String(TIMEOUT) } });
  op.hold((req) => req.url.startsWith('/.well-known/'));
  try {
    const started = Date.now();
    const answers = await Promise.all([1, 2, 3, 4].map(async () => {
      const r = await get(s, '/oauth/op/login/');
      return { r, ms: Date.now() - started };
    }));
    for (const { r, ms } of answers) {
      assert.equal(r.status, 303);
      assert.match(decodeURIComponent(r.headers.get('location')), /could not be reached/);
      assert.ok(ms < TIMEOUT * 1000 + 1500, `answered after ${ms} ms: ${answers.map((x) => x.ms).join(', ')}`);
    }
  } finally {
    op.release();
    await s.stop();
  }
});
