// OpenID Providers for the tests of "Sign in with a provider": a real one (the oidc-provider
// package) on a loopback port, a small hostile one that hands out crafted ID tokens, and a
// cookie-keeping "browser" that walks through a login without a real browser.
import http from 'node:http';
import { generateKeyPairSync, createHash, createSign, createHmac, randomBytes, randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';

/** The password of every account at the test providers. */
export const OP_PASSWORD = 'provider password';

/** A private JWK of a fresh key: RS256 (RSA 2048) or ES256 (P-256), with a kid. */
export function privateJwk(alg = 'RS256', kid = randomUUID()) {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

/** The public part of a private JWK. */
export function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A compact JWS of claims signed with a private JWK (RS256 or ES256); header merged in. */
export function signJwt(claims, jwk, header = {}) {
  const head = { alg: jwk.alg, typ: 'JWT', kid: jwk.kid, ...header };
  const input = `${b64url(head)}.${b64url(claims)}`;
  const key = { key: jwk, format: 'jwk' };
  const sig = jwk.alg === 'ES256'
    ? createSign('SHA256').update(input).sign({ ...key, dsaEncoding: 'ieee-p1363' })
    : createSign('SHA256').update(input).sign(key);
  return `${input}.${sig.toString('base64url')}`;
}

/** Reads a request body as text. */
function readBody(req) {
  return new Promise((res, rej) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end('<!doctype html><html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
    + `<title>${htmlEscape(title)}</title></head>`
    + `<body><h1>${htmlEscape(title)}</h1>${body}</body></html>`);
}

/**
 * An HTTP server on 127.0.0.1 (port 0) whose requests go to handler, with two faults the tests
 * switch on: hold(predicate) leaves matching requests unanswered (a provider that hangs) until
 * release(); the server's sockets are all closed at stop().
 */
async function loopbackServer(handler) {
  const sockets = new Set();
  const held = [];
  let holding = null;
  const server = http.createServer((req, res) => {
    if (holding && holding(req)) {
      held.push(res);
      return;
    }
    Promise.resolve(handler(req, res)).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.stack));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    hold(predicate = () => true) { holding = predicate; },
    release() {
      holding = null;
      for (const res of held.splice(0)) { try { res.destroy(); } catch {} }
    },
    async stop() {
      holding = null;
      held.length = 0;
      for (const s of sockets) s.destroy();
      await new Promise((res) => server.close(() => res()));
    },
  };
}

// ---------------------------------------------------------------- the real provider

/**
 * Starts a real OpenID Provider (oidc-provider) on a loopback port: issuer
 * http://127.0.0.1:PORT, PKCE required (S256), an RS256 and an ES256 signing key, accounts the
 * test controls and its own login and consent pages (/interaction/{uid}).
 * opts.idTokenClaims: put the scope claims (email, names) into the ID token too; by default
 * they come only from the UserInfo endpoint, as OpenID Connect Core §5.4 has it for the code flow.
 * Resolves with {issuer, url, port, accounts, setAccount, registerClient, newClient, hold,
 * release, publishJwks, stop, provider}.
 */
export async function startOidcProvider(opts = {}) {
  const accounts = new Map(); // accountId → {email, email_verified, given_name, family_name, password}
  const rsa = privateJwk('RS256');
  const ec = privateJwk('ES256');
  let published = null; // a JWKS served instead of the provider's own, when set

  let provider;
  const interactionPages = async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(u.pathname);
    if (!m) return false;
    const [, uid, action] = m;
    const details = await provider.interactionDetails(req, res);
    assert.equal(details.uid, uid);
    if (!action && req.method === 'GET') {
      const client = htmlEscape(details.params.client_id);
      if (details.prompt.name === 'login') {
        page(res, 'Sign in at the test provider', `<p>to continue to ${client}</p>`
          + `<form method="post" action="/interaction/${uid}/login">`
          + '<p><label for="login">Account</label> <input id="login" name="login" autocomplete="username" required></p>'
          + '<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>'
          + '<p><button type="submit">Sign in</button></p></form>'
          + `<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
      } else {
        const scopes = htmlEscape([...(details.prompt.details.missingOIDCScope || [])].join(' '));
        page(res, 'Allow access', `<p>${client} asks for: <span id="scopes">${scopes}</span></p>`
          + `<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>`
          + `<form method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`);
      }
      return true;
    }
    if (req.method !== 'POST') return false;
    const form = new URLSearchParams(await readBody(req));
    if (action === 'login') {
      const account = accounts.get(form.get('login'));
      if (!account || form.get('password') !== (account.password ?? OP_PASSWORD)) {
        page(res, 'Sign in at the test provider', '<p id="error">Wrong account or password.</p>');
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
    } else if (action === 'confirm') {
      const { prompt: { details: missing }, grantId, session, params } = details;
      const grant = grantId ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } else {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person said no' }, { mergeWithLastSubmission: false });
    }
    return true;
  };

  const srv = await loopbackServer(async (req, res) => {
    if (req.url.startsWith('/interaction/') && await interactionPages(req, res)) return;
    if (published && req.method === 'GET' && req.url.split('?')[0] === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(published));
      return;
    }
    provider.callback()(req, res);
  });
  const issuer = srv.url;

  provider = new Provider(issuer, {
    findAccount: async (_ctx, id) => {
      const a = accounts.get(id);
      if (!a) return undefined;
      return {
        accountId: id,
        async claims() {
          const c = { sub: id };
          for (const k of ['email', 'email_verified', 'given_name', 'family_name', 'name']) if (a[k] !== undefined) c[k] = a[k];
          return c;
        },
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
    conformIdTokenClaims: !opts.idTokenClaims,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    responseTypes: ['code'],
    jwks: { keys: [rsa, ec] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

  return {
    provider,
    issuer,
    url: issuer,
    port: srv.port,
    accounts,
    /** Creates or changes an account (id = its sub): {email, email_verified, given_name, …}. */
    setAccount(id, claims) {
      accounts.set(id, { email_verified: true, ...(accounts.get(id) || {}), ...claims });
      return id;
    },
    /** Registers a client (client_secret_basic, the authorization code flow). */
    async registerClient(metadata) {
      await provider.Client.adapter.upsert(metadata.client_id, {
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...metadata,
      });
    },
    /** A fresh client id and secret, registered with redirectUris once they are known. */
    newClient(extra = {}) {
      const client = { client_id: `gh-${randomUUID()}`, client_secret: randomBytes(24).toString('base64url'), ...extra };
      return {
        ...client,
        register: (redirectUris) => this.registerClient({ ...client, redirect_uris: redirectUris }),
      };
    },
    /** Serve this JWKS at /jwks instead of the provider's own keys (null: its own again). */
    publishJwks(jwks) { published = jwks; },
    /** Leave requests that match predicate(req) unanswered until release() or stop(). */
    hold: srv.hold,
    release: srv.release,
    stop: srv.stop,
  };
}

// ---------------------------------------------------------------- a hostile provider

/**
 * A small OpenID Provider that misbehaves on purpose, for the ID-token checks: discovery, an
 * authorization endpoint that logs the "current" account in at once (no pages), a token
 * endpoint that checks the client and PKCE like a real one and answers with an ID token that
 * next() has shaped, and a JWKS. Without a shape, its ID tokens are correct (RS256, the right
 * iss, aud, nonce, exp), so a failing test is the shape's doing.
 * Resolves with {issuer, url, clientId, clientSecret, account, next(shape), stop, …}.
 */
export async function startHostileProvider() {
  const published = privateJwk('RS256');
  const unpublished = privateJwk('RS256');
  const codes = new Map(); // code → {nonce, challenge, redirectUri}
  const userinfo = new Map(); // access token → the UserInfo answer
  const clientId = 'hostile-client';
  const clientSecret = randomBytes(24).toString('base64url');
  let shape = null;
  const state = { account: { sub: 'hostile-1', email: 'nobody@example.com', email_verified: true, given_name: 'Mallory', family_name: 'Hostile' } };

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const srv = await loopbackServer(async (req, res) => {
    const u = new URL(req.url, issuer);
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (u.pathname === '/jwks') return json(res, 200, { keys: [publicJwk(published)] });
    if (u.pathname === '/userinfo') {
      const info = userinfo.get((req.headers.authorization || '').replace(/^Bearer /, ''));
      return info ? json(res, 200, info) : json(res, 401, { error: 'invalid_token' });
    }
    if (u.pathname === '/authorize') {
      const q = u.searchParams;
      const to = new URL(q.get('redirect_uri'));
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256') {
        to.searchParams.set('error', 'invalid_request');
      } else {
        const code = randomBytes(16).toString('base64url');
        codes.set(code, { nonce: q.get('nonce'), challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri') });
        to.searchParams.set('code', code);
      }
      to.searchParams.set('state', q.get('state'));
      res.writeHead(303, { location: to.href });
      return res.end();
    }
    if (u.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const basic = Buffer.from((req.headers.authorization || '').replace(/^Basic /, ''), 'base64').toString();
      const [id, secret] = basic.split(':').map(decodeURIComponent);
      const grant = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      if (id !== clientId || secret !== clientSecret) return json(res, 401, { error: 'invalid_client' });
      if (!grant || form.get('redirect_uri') !== grant.redirectUri
          || createHash('sha256').update(form.get('code_verifier') || '').digest('base64url') !== grant.challenge) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      const s = shape || {};
      shape = null;
      const claims = { iss: issuer, aud: clientId, sub: state.account.sub, iat: now, exp: now + 300, nonce: grant.nonce, ...state.account, ...(s.claims || {}) };
      for (const [k, v] of Object.entries(s.claims || {})) if (v === undefined) delete claims[k];
      let idToken;
      if (s.token) idToken = s.token(claims, { published, unpublished });
      else idToken = signJwt(claims, s.key === 'unpublished' ? unpublished : published, s.header || {});
      const accessToken = randomBytes(16).toString('base64url');
      userinfo.set(accessToken, { sub: claims.sub, ...state.account, ...(s.userinfo || {}) });
      return json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken });
    }
    return json(res, 404, { error: 'not_found' });
  });
  const issuer = srv.url;

  return {
    issuer,
    url: issuer,
    clientId,
    clientSecret,
    keys: { published, unpublished },
    /** The claims the next logins carry (sub, email, …). */
    setAccount(claims) { state.account = { email_verified: true, ...claims }; },
    /**
     * Shapes the next ID token: {claims: overrides (undefined removes one), header: overrides,
     * key: 'unpublished' (a key not in the JWKS), token(claims, keys): build it yourself,
     * userinfo: overrides of its UserInfo answer (by default the account's claims)}.
     */
    next(s) { shape = s; },
    hold: srv.hold,
    release: srv.release,
    stop: srv.stop,
  };
}

/** An HS256 JWS, for the algorithm-confusion case (the "secret" is a public key's bytes). */
export function signHs256(claims, secret, header = {}) {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', ...header })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

// ---------------------------------------------------------------- a browser without a browser

/**
 * A cookie jar and a fetch that keeps it, as one browser would: cookies are kept per host name
 * (not per port, as browsers do, so the provider and gatehouse on 127.0.0.1 share one jar) and
 * sent when their path matches. Nothing is followed on its own.
 */
export class Browser {
  constructor() {
    this.cookies = []; // {name, value, host, path}
  }

  cookieHeader(url) {
    const u = new URL(url);
    return this.cookies
      .filter((c) => c.host === u.hostname && (u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of the cookie called name (any path), or undefined. */
  cookie(name) {
    const c = this.cookies.find((k) => k.name === name);
    return c && c.value;
  }

  store(url, setCookies) {
    const u = new URL(url);
    for (const sc of setCookies) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      let path = u.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') path = v || '/';
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.host === u.hostname && c.path === path));
      if (!expired && value !== '') this.cookies.push({ name, value, host: u.hostname, path });
    }
  }

  /** One request with this browser's cookies; Set-Cookie answers are kept. */
  async fetch(url, { method = 'GET', form, headers = {} } = {}) {
    const h = { ...headers };
    const cookie = this.cookieHeader(url);
    if (cookie) h.cookie = cookie;
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    const text = await res.text();
    this.store(url, res.headers.getSetCookie());
    let parsed;
    try { parsed = text.length ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: res.status, headers: res.headers, text, body: parsed, url, location: res.headers.get('location') ? new URL(res.headers.get('location'), url).href : null };
  }
}

/**
 * Walks a login at the real provider from gatehouse's login route up to (not into) gatehouse's
 * callback: GET /oauth/{name}/login/, the provider's authorization endpoint, its login page
 * (the form posted for account), its consent page (allowed, or denied with deny: true). next is
 * sent percent-encoded, nextRaw as given.
 * Resolves with {start (gatehouse's answer), callback (the URL the provider sends the browser
 * back to)}; the browser then holds gatehouse's binding cookie.
 */
export async function walkToCallback(browser, gatehouse, name, { account, password = OP_PASSWORD, next, nextRaw, deny = false } = {}) {
  const q = nextRaw !== undefined ? `?next=${nextRaw}` : next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
  const start = await browser.fetch(`${gatehouse.url}/oauth/${name}/login/${q}`);
  assert.equal(start.status, 303, `login start: ${start.status} ${start.text}`);
  const callbackPrefix = `${gatehouse.publicUrl || gatehouse.url}/oauth/${name}/callback/`;
  let r = start;
  for (let step = 0; step < 12; step++) {
    if (r.location && r.location.startsWith(callbackPrefix)) return { start, callback: r.location };
    if (r.status >= 300 && r.status < 400) {
      r = await browser.fetch(r.location);
      continue;
    }
    assert.equal(r.status, 200, `at ${r.url}: ${r.status} ${r.text.slice(0, 500)}`);
    const m = /action="(\/interaction\/[^/"]+)\/(login|confirm)"/.exec(r.text);
    assert.ok(m, `a provider page with a form at ${r.url}: ${r.text.slice(0, 500)}`);
    const base = new URL(r.url).origin + m[1];
    if (m[2] === 'login') r = await browser.fetch(`${base}/login`, { method: 'POST', form: { login: account, password } });
    else r = await browser.fetch(`${base}/${deny ? 'abort' : 'confirm'}`, { method: 'POST', form: {} });
  }
  throw new Error('the provider did not send the browser back to gatehouse');
}

/**
 * Walks a login at the hostile provider (no pages) up to gatehouse's callback URL.
 */
export async function walkHostile(browser, gatehouse, name, { next } = {}) {
  const q = next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
  const start = await browser.fetch(`${gatehouse.url}/oauth/${name}/login/${q}`);
  assert.equal(start.status, 303, `login start: ${start.status} ${start.text}`);
  const at = await browser.fetch(start.location);
  assert.equal(at.status, 303, `hostile authorize: ${at.status} ${at.text}`);
  return { start, callback: at.location };
}

/**
 * The environment that configures gatehouse for providers: {name: {issuer, clientId,
 * clientSecret, displayName}} → GATEHOUSE_OIDC_*.
 */
export function providerEnv(providers) {
  const env = { GATEHOUSE_OIDC_PROVIDERS: Object.keys(providers).join(',') };
  for (const [name, p] of Object.entries(providers)) {
    const up = name.toUpperCase();
    env[`GATEHOUSE_OIDC_${up}_ISSUER`] = p.issuer;
    env[`GATEHOUSE_OIDC_${up}_CLIENT_ID`] = p.clientId;
    if (p.clientSecret) env[`GATEHOUSE_OIDC_${up}_CLIENT_SECRET`] = p.clientSecret;
    if (p.displayName) env[`GATEHOUSE_OIDC_${up}_DISPLAY_NAME`] = p.displayName;
  }
  return env;
}
