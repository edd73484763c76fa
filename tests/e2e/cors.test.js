// A single-page app on another origin uses the token API from a real browser (Chromium): the
// page's own script obtains a token pair with fetch, calls current-user and update-user with the
// Bearer token, refreshes and revokes (logs out). Two such pages are served by small static servers on other
// loopback addresses: http://127.0.0.2:PORT is in GATEHOUSE_CORS_ORIGINS and everything works;
// http://127.0.0.3:PORT is not, and the browser blocks the page's requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, cleanup, registerAndConfirm, sql } from '../support/server.js';
import { launchBrowser, openPage } from './browser.js';

// The page: it reads gatehouse's URL and the credentials from its query string, runs the flow and
// writes what it saw as JSON into #result.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SPA on another origin</title>
<script src="/app.js" defer></script></head>
<body><pre id="result"></pre></body></html>
`;

const APP = `'use strict';
const params = new URLSearchParams(location.search);
const gatehouse = params.get('gatehouse');
const steps = [];

async function call(name, path, { method = 'GET', body, token, contentType = 'application/json' } = {}) {
  const headers = {};
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = contentType;
  if (token) headers.Authorization = 'Bearer ' + token;
  try {
    const res = await fetch(gatehouse + path, { method, headers, body: body === undefined || form ? body : JSON.stringify(body) });
    const json = await res.json().catch(() => null);
    steps.push({ name, status: res.status });
    return { status: res.status, json };
  } catch (err) {
    steps.push({ name, error: err.name + ': ' + err.message });
    return null;
  }
}

async function flow() {
  const credentials = { email: params.get('email'), password: params.get('password') };
  // a request the browser sends without a preflight (text/plain): the answer must not be readable
  await call('simple', '/api/token/', { method: 'POST', body: credentials, contentType: 'text/plain' });
  const pair = await call('obtain', '/api/token/', { method: 'POST', body: credentials });
  if (!pair || pair.status !== 200) return;
  const me = await call('current-user', '/users/current-user/', { token: pair.json.access });
  if (me) steps[steps.length - 1].email = me.json && me.json.email;
  const form = new FormData();
  form.append('first_name', 'Grace');
  const updated = await call('update-user', '/users/update-user/', { method: 'PATCH', body: form, token: pair.json.access });
  if (updated) steps[steps.length - 1].first_name = updated.json && updated.json.first_name;
  const next = await call('refresh', '/api/token/refresh/', { method: 'POST', body: { refresh: pair.json.refresh } });
  if (!next || next.status !== 200) return;
  steps[steps.length - 1].rotated = next.json.refresh !== pair.json.refresh;
  await call('current-user again', '/users/current-user/', { token: next.json.access });
  await call('old refresh token', '/api/token/refresh/', { method: 'POST', body: { refresh: pair.json.refresh } });
  await call('logout', '/api/token/revoke/', { method: 'POST', body: { refresh: next.json.refresh } });
  await call('refresh after logout', '/api/token/refresh/', { method: 'POST', body: { refresh: next.json.refresh } });
}

flow().finally(() => { document.getElementById('result').textContent = JSON.stringify(steps); });
`;

/** A static server of the page on host (a loopback address), on a free port. */
function startStatic(host) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const [type, body] = path === '/' ? ['text/html; charset=utf-8', PAGE]
      : path === '/app.js' ? ['text/javascript; charset=utf-8', APP] : [null, null];
    if (!type) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, host, () => resolve({ server, origin: `http://${host}:${server.address().port}` }));
  });
}

let gatehouse;
let browser;
let allowed;
let blocked;

before(async () => {
  allowed = await startStatic('127.0.0.2');
  blocked = await startStatic('127.0.0.3');
  gatehouse = await startServer({ env: { GATEHOUSE_CORS_ORIGINS: allowed.origin } });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of [allowed, blocked]) if (s) await new Promise((r) => s.server.close(r));
  await cleanup();
});

/** Opens the page of origin for creds and resolves with its steps and the page's problems. */
async function runPage(origin, creds) {
  const { context, page } = await openPage(browser);
  const query = new URLSearchParams({ gatehouse: gatehouse.url, email: creds.email, password: creds.password });
  await page.goto(`${origin}/?${query}`);
  await page.waitForFunction(() => document.getElementById('result').textContent !== '', null, { timeout: 15_000 });
  const steps = JSON.parse(await page.textContent('#result'));
  const problems = [...page.problems];
  await context.close();
  return { steps, problems };
}

const tokensIssued = (email) => sql(gatehouse.dataDir, `SELECT count(*) AS n FROM audit_log WHERE event = 'token_issued' AND email = '${email}'`)[0].n;

test('a page on an allowed origin obtains, uses, refreshes and revokes tokens with fetch', async () => {
  const creds = await registerAndConfirm(gatehouse);
  const { steps, problems } = await runPage(allowed.origin, creds);
  const by = Object.fromEntries(steps.map((s) => [s.name, s]));
  assert.equal(by.simple.status, 415, `a text/plain body is refused, and the page may read that: ${JSON.stringify(by.simple)}`);
  assert.deepEqual(steps.map((s) => [s.name, s.status]), [
    ['simple', 415],
    ['obtain', 200],
    ['current-user', 200],
    ['update-user', 200],
    ['refresh', 200],
    ['current-user again', 200],
    ['old refresh token', 200], // within the grace window: the same successor again
    ['logout', 200],
    ['refresh after logout', 401],
  ], JSON.stringify(steps));
  assert.equal(by['current-user'].email, creds.email);
  assert.equal(by['update-user'].first_name, 'Grace');
  assert.equal(by.refresh.rotated, true);
  assert.deepEqual(problems.filter((p) => /CORS|uncaught/i.test(p)), [], 'no CORS error, no exception');
  assert.equal(tokensIssued(creds.email), 1);
});

test('a page on an origin not allowed is blocked by the browser: its fetch fails and nothing is issued', async () => {
  const creds = await registerAndConfirm(gatehouse);
  const { steps, problems } = await runPage(blocked.origin, creds);
  assert.deepEqual(steps.map((s) => s.name), ['simple', 'obtain'], 'the flow stops at the first failure');
  for (const s of steps) {
    assert.equal(s.status, undefined, `${s.name}: the page must not see an answer: ${JSON.stringify(s)}`);
    assert.match(s.error, /^TypeError: Failed to fetch/, s.name);
  }
  assert.ok(problems.some((p) => /blocked by CORS policy/.test(p)), `Chromium reports the CORS block:\n${problems.join('\n')}`);
  assert.equal(tokensIssued(creds.email), 0, 'no token was issued to that page');
  // the same credentials from the allowed origin still work: nothing was locked
  const ok = await runPage(allowed.origin, creds);
  assert.equal(ok.steps.find((s) => s.name === 'obtain').status, 200);
});
