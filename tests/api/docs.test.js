// docs/api.md cannot drift from the server: the routes it documents are exactly the routes
// `gatehouse routes` prints, and every one of them is served. Likewise README.md's settings
// table lists exactly the settings `gatehouse config --list` prints, with their defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, cleanup, request, post, expectError, register, registerAndConfirm, loginOk, updateUser,
  png1x1, randomEmail, GATEHOUSE_BIN, REPO_ROOT,
} from '../support/server.js';

/** `METHOD /path/` lines printed by `gatehouse routes`. */
function servedRoutes() {
  const out = execFileSync(GATEHOUSE_BIN, ['routes'], { encoding: 'utf8' });
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of lines) assert.match(line, /^[A-Z]+ \/\S*$/, `route line: ${JSON.stringify(line)}`);
  return lines;
}

/** `### METHOD /path` headings of docs/api.md, without a `?query` part. */
function documentedRoutes() {
  const md = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const routes = [];
  for (const line of md.split('\n')) {
    const m = /^###\s+([A-Z]+)\s+(\/\S*)\s*$/.exec(line);
    if (m) routes.push(`${m[1]} ${m[2].split('?')[0]}`);
  }
  return routes;
}

function duplicates(list) {
  return list.filter((x, i) => list.indexOf(x) !== i);
}

test('gatehouse routes prints one route per line', () => {
  const routes = servedRoutes();
  assert.ok(routes.length >= 10, `only ${routes.length} routes: ${routes.join(', ')}`);
  assert.deepEqual(duplicates(routes), [], 'no route printed twice');
  assert.ok(routes.includes('GET /health-check/'));
});

test('docs/api.md documents exactly the routes the server serves', () => {
  const served = servedRoutes();
  const documented = documentedRoutes();
  assert.ok(documented.length > 0, 'no "### METHOD /path" headings found in docs/api.md');
  assert.deepEqual(duplicates(documented), [], 'no route documented twice');
  const undocumented = served.filter((r) => !documented.includes(r));
  const unserved = documented.filter((r) => !served.includes(r));
  assert.deepEqual(
    { undocumented, unserved },
    { undocumented: [], unserved: [] },
    `served but not in docs/api.md: ${JSON.stringify(undocumented)}; in docs/api.md but not served: ${JSON.stringify(unserved)}`,
  );
});

/** name → {def, help} of every setting, from `gatehouse config --list` (NAME, default, help). */
function tableSettings() {
  const out = execFileSync(GATEHOUSE_BIN, ['config', '--list'], { encoding: 'utf8' });
  const settings = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const fields = line.split('\t');
    assert.equal(fields.length, 3, `setting line: ${JSON.stringify(line)}`);
    const [name, def, help] = fields;
    assert.match(name, /^[A-Z][A-Z0-9_]*(<NAME>[A-Z0-9_]*)?$/, `setting name: ${JSON.stringify(name)}`);
    assert.ok(!settings.has(name), `${name} listed twice`);
    settings.set(name, { def, help });
  }
  return settings;
}

/** A default as README.md writes it, compared as `config --list` prints it: without the
 *  backticks, and "–" for none. */
function plainDefault(text) {
  const plain = text.replace(/`/g, '').trim();
  return plain === '–' ? '' : plain;
}

/** name → default of every setting in README.md's Configuration table. A row may document
 *  several settings (`A`, `B`) with one default each (`1`, `2`) or one default for all. */
function readmeSettings() {
  const md = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = md.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'README.md has a "## Configuration" section');
  const end = md.indexOf('\n## ', start + 1);
  const settings = new Map();
  for (const line of md.slice(start, end < 0 ? undefined : end).split('\n')) {
    const row = /^\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!row || !row[1].includes('`')) continue; // the header and its underline
    const names = [...row[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const split = row[2].split(/,\s*/);
    const defaults = names.length > 1 && split.length === names.length ? split : names.map(() => row[2]);
    names.forEach((name, i) => {
      assert.ok(!settings.has(name), `README.md documents ${name} twice`);
      settings.set(name, plainDefault(defaults[i]));
    });
  }
  return settings;
}

test('gatehouse config --list gives every setting a default column and a help text', () => {
  const settings = tableSettings();
  assert.ok(settings.size >= 50, `only ${settings.size} settings`);
  for (const [name, { help }] of settings) assert.ok(help.trim().length > 0, `${name} has a help text`);
  assert.equal(settings.get('GATEHOUSE_LISTEN').def, '127.0.0.1:5000');
});

test('README.md documents exactly the settings gatehouse reads, with their defaults', () => {
  const table = tableSettings();
  const readme = readmeSettings();
  const undocumented = [...table.keys()].filter((n) => !readme.has(n));
  const unknown = [...readme.keys()].filter((n) => !table.has(n));
  assert.deepEqual(
    { undocumented, unknown },
    { undocumented: [], unknown: [] },
    `read but not in README.md's table: ${JSON.stringify(undocumented)}; in README.md's table but not read: ${JSON.stringify(unknown)}`,
  );
  const wrong = [...table].filter(([name, { def }]) => readme.get(name) !== def)
    .map(([name, { def }]) => `${name}: README.md says ${JSON.stringify(readme.get(name))}, gatehouse ${JSON.stringify(def)}`);
  assert.deepEqual(wrong, [], 'defaults that differ');
});

test('fuzz/config.dict names every setting, so the fuzzer writes them all', () => {
  const dict = readFileSync(join(REPO_ROOT, 'fuzz', 'config.dict'), 'utf8');
  // a provider's settings are written for the provider the dictionary names: "FUZZ"
  const missing = [...tableSettings().keys()].map((name) => name.replace('<NAME>', 'FUZZ'))
    .filter((name) => !dict.includes(`"${name}="`));
  assert.deepEqual(missing, [], 'settings missing from fuzz/config.dict');
});

let server;
let avatarPath; // a real stored file, so GET /media/{path} has something to serve
let staticPath = 'app.js';
before(async () => {
  // one provider configured (unreachable: its routes answer with the error page, not 404)
  server = await startServer({ env: {
    GATEHOUSE_OIDC_PROVIDERS: 'example',
    GATEHOUSE_OIDC_EXAMPLE_ISSUER: 'http://127.0.0.1:9',
    GATEHOUSE_OIDC_EXAMPLE_CLIENT_ID: 'gatehouse',
  } });
  const creds = await registerAndConfirm(server);
  const cookie = await loginOk(server, creds);
  const r = await updateUser(server, cookie, { thumbnail: { bytes: png1x1(), filename: 'a.png', type: 'image/png' } });
  assert.equal(r.status, 200, r.text);
  avatarPath = new URL(r.body.thumbnail).pathname.replace(/^\/media\//, '');
  // a script or style the UI pages refer to, so GET /static/{path} has something to serve
  for (const page of ['/', '/auth/login']) {
    const m = /\/static\/([A-Za-z0-9._\/-]+)/.exec((await request(server, 'GET', page)).text);
    if (m) { staticPath = m[1]; break; }
  }
});
after(cleanup);

/** Call a route with its method, placeholders filled, without a session. */
function call(method, path) {
  const withBody = !['GET', 'HEAD', 'DELETE'].includes(method);
  return request(server, method, path, withBody ? { body: '{}', headers: { 'content-type': 'application/json' } } : {});
}

/** The route with its placeholders replaced by values that name something real. */
function fill(template) {
  const path = template.startsWith('/media/') ? avatarPath
    : template.startsWith('/static/') ? staticPath
      : template.startsWith('/auth/') ? 'login' // a documented page of the built-in UI
        : 'x';
  return template
    .replace('{id}', '00000000-0000-0000-0000-000000000000') // a session route answers 401 before any lookup
    .replace('{provider}', 'example')
    .replace('{path}', path);
}

test('every route answers something other than 404 or 405 with its method', async () => {
  const unserved = [];
  for (const route of servedRoutes()) {
    const [method, template] = route.split(' ');
    const path = fill(template);
    const r = await call(method, path);
    if (r.status === 404 || r.status === 405) unserved.push(`${method} ${path} (${route}) → ${r.status} ${r.text}`);
  }
  assert.deepEqual(unserved, [], 'routes answering as if unknown');
});

test('the routes also answer without the trailing slash', async () => {
  const unserved = [];
  for (const route of servedRoutes()) {
    const [method, template] = route.split(' ');
    if (template.includes('{') || !template.endsWith('/') || template === '/') continue;
    const path = template.slice(0, -1);
    const r = await call(method, path);
    if (r.status === 404 || r.status === 405) unserved.push(`${method} ${path} → ${r.status}`);
  }
  assert.deepEqual(unserved, []);
});

/** The text of the docs/api.md section under `### METHOD /path` (up to the next heading). */
function documentedSection(heading) {
  const md = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const start = md.indexOf(`\n### ${heading}\n`);
  assert.ok(start >= 0, `docs/api.md has a section ### ${heading}`);
  const end = md.indexOf('\n#', start + 1);
  return md.slice(start, end < 0 ? undefined : end);
}

test('docs/api.md lists the answers POST /users/regenerate-token/ really gives', async () => {
  const doc = documentedSection('POST /users/regenerate-token/');
  const s = await startServer({ env: { GATEHOUSE_RATE_EMAIL_MAX: '2' } });
  const path = '/users/regenerate-token/';
  const seen = new Map(); // status → codes
  const note = (r) => {
    if (!seen.has(r.status)) seen.set(r.status, new Set());
    if (r.body && r.body.code) seen.get(r.status).add(r.body.code);
    return r;
  };
  const unconfirmed = (await register(s)).email;
  const confirmed = (await registerAndConfirm(s)).email;
  const same = new Set();
  for (const email of [randomEmail('nobody'), unconfirmed, confirmed]) same.add(note(await post(s, path, { email })).text);
  assert.equal(same.size, 1, 'one answer for every well-formed address');
  expectError(note(await post(s, path, { email: 'not an address' })), 400, 'invalid_email', 'email');
  expectError(note(await post(s, path, {})), 400, 'missing_field', 'email');
  expectError(note(await post(s, path, { email: 42 })), 400, 'wrong_type', 'email');
  expectError(note(await post(s, path, { email: `${'a'.repeat(250)}@example.com` })), 400, 'too_long', 'email');
  expectError(note(await post(s, path, { email: confirmed, extra: 1 })), 400, 'unknown_field');
  note(await post(s, path, { email: unconfirmed })); // the second mail to this address
  expectError(note(await post(s, path, { email: unconfirmed })), 429, 'rate_limited');
  await s.stop();

  assert.doesNotMatch(doc, /always 200/i, 'the route does not always answer 200');
  for (const [status, codes] of seen) {
    assert.match(doc, new RegExp(`\\b${status}\\b`), `docs/api.md names the status ${status} of this route`);
    for (const code of codes) assert.ok(doc.includes(`\`${code}\``), `docs/api.md names the code ${code}`);
  }
});
