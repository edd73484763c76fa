// docs/openapi.yaml cannot drift from the server: its paths and methods are exactly the routes
// `gatehouse routes` prints, it is a valid OpenAPI 3.1 document whose error responses list
// codes of src/http/errors.c with their statuses, GET /openapi.yaml serves it byte for byte, and
// every operation's documented example request, sent to a live server (with live tokens where
// the example's are made up), gets an answer whose status, headers and body the document
// describes. Requests that break the documented request schemas (bad JSON, missing, unknown or
// mistyped fields, values one character past a documented length, no credentials, methods a
// path does not serve) get answers the document lists too, and values at the documented
// lengths are not refused for their length.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  startServer, cleanup, request, post, loginOk, confirmationLink, passwordResetLink, changeTokenOf,
  png1x1, pathOf, GATEHOUSE_BIN, REPO_ROOT,
} from '../support/server.js';

const Ajv2020 = Ajv2020Module.default || Ajv2020Module;
const addFormats = addFormatsModule.default || addFormatsModule;

const DOC_PATH = join(REPO_ROOT, 'docs', 'openapi.yaml');
const DOC_TEXT = readFileSync(DOC_PATH);
const doc = parse(DOC_TEXT.toString('utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ---------------------------------------------------------------- reading the document

/** Every operation: {method, path, op, key ("METHOD /path"), pointer (JSON pointer of op)}. */
function operations() {
  const list = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      list.push({ method: method.toUpperCase(), path, op: item[method], key: `${method.toUpperCase()} ${path}`, pointer: `#/paths/${escapePointer(path)}/${method}` });
    }
  }
  return list;
}

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The value at a local JSON pointer (`#/a/b`). */
function at(pointer) {
  assert.ok(pointer.startsWith('#/'), `local reference expected: ${pointer}`);
  return pointer.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, key) => {
      assert.ok(node && key in node, `${pointer} does not resolve`);
      return node[key];
    }, doc);
}

/** Follows an object's $ref (responses, headers, parameters); returns [object, its pointer]. */
function deref(obj, pointer) {
  while (obj && obj.$ref) {
    pointer = obj.$ref;
    obj = at(pointer);
  }
  return [obj, pointer];
}

/** A schema with its $refs and allOf merged far enough to read properties and formats. */
function flatSchema(schema) {
  let s = schema;
  while (s && s.$ref && Object.keys(s).length === 1) s = at(s.$ref);
  if (s && s.$ref) s = { ...flatSchema(at(s.$ref)), ...s, $ref: undefined };
  if (s && s.allOf) {
    const parts = s.allOf.map(flatSchema);
    return {
      ...s,
      properties: Object.assign({}, ...parts.map((p) => p.properties || {}), s.properties || {}),
      required: [...new Set(parts.flatMap((p) => p.required || []).concat(s.required || []))],
    };
  }
  return s;
}

function propSchemas(schema) {
  const flat = flatSchema(schema);
  return Object.fromEntries(Object.entries(flat.properties || {}).map(([k, v]) => [k, flatSchema(v)]));
}

// ---------------------------------------------------------------- schema validation (ajv)

const DOC_ID = 'https://gatehouse.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addFormat('binary', true);
ajv.addSchema({ ...doc, $id: DOC_ID });
const compiled = new Map();

/** Validates value against the schema at a local pointer of the document; returns the errors. */
function schemaErrors(pointer, value) {
  if (!compiled.has(pointer)) compiled.set(pointer, ajv.compile({ $ref: DOC_ID + pointer }));
  const validate = compiled.get(pointer);
  return validate(value) ? null : validate.errors;
}

// ---------------------------------------------------------------- the route table

/** `METHOD /path` lines printed by `gatehouse routes`. */
function servedRoutes() {
  return execFileSync(GATEHOUSE_BIN, ['routes'], { encoding: 'utf8' }).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Every status, code and HTTP status of src/http/errors.c: code → Set of HTTP statuses. */
function errorTable() {
  const c = readFileSync(join(REPO_ROOT, 'src', 'http', 'errors.c'), 'utf8');
  const table = new Map();
  for (const m of c.matchAll(/\[GH_[A-Z_]+\]\s*=\s*\{\s*(\d{3}),\s*"([a-z_]+)"/g)) {
    if (!table.has(m[2])) table.set(m[2], new Set());
    table.get(m[2]).add(Number(m[1]));
  }
  return table;
}

/** The error codes a response schema lists: [{code, shape}] from `code`/`error` enums/consts
 *  of branches built on Error or OAuthError. */
function listedCodes(schema) {
  const out = [];
  const branches = schema.oneOf || schema.anyOf || [schema];
  for (const b of branches) {
    const base = b.$ref;
    const key = base === '#/components/schemas/Error' ? 'code' : base === '#/components/schemas/OAuthError' ? 'error' : null;
    if (!key) continue;
    const p = (b.properties || {})[key] || {};
    const codes = p.enum || (p.const !== undefined ? [p.const] : []);
    assert.ok(codes.length > 0, `a response built on ${base} lists its codes (${key} enum or const)`);
    for (const code of codes) out.push({ code, shape: base.split('/').pop() });
  }
  return out;
}

// Codes of src/http/errors.c that no route answers: a unique-constraint clash of random ids
// (conflict), buffer and emptiness statuses turned into other codes before an answer
// (too_large, empty), settings refused at start (config) and the staff check of no route
// (forbidden).
const CODES_NO_ROUTE_ANSWERS = ['conflict', 'too_large', 'empty', 'config', 'forbidden'];

// ---------------------------------------------------------------- the static checks

test('docs/openapi.yaml has exactly the paths and methods `gatehouse routes` prints', () => {
  const served = servedRoutes().sort();
  const documented = operations().map((o) => o.key).sort();
  const undocumented = served.filter((r) => !documented.includes(r));
  const unserved = documented.filter((r) => !served.includes(r));
  assert.deepEqual({ undocumented, unserved }, { undocumented: [], unserved: [] },
    `served but not in docs/openapi.yaml: ${JSON.stringify(undocumented)}; documented but not served: ${JSON.stringify(unserved)}`);
  assert.equal(documented.length, served.length);
});

test('docs/openapi.yaml is a valid OpenAPI 3.1 document of this version of gatehouse', async () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, `validation errors: ${JSON.stringify(result.errors, null, 1)}`);
  const version = execFileSync(GATEHOUSE_BIN, ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).pop();
  assert.equal(doc.info.version, version, 'info.version is the version gatehouse --version prints');
  const ids = operations().map((o) => o.op.operationId);
  assert.ok(ids.every(Boolean), 'every operation has an operationId');
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'operationIds are unique');
});

test('every operation documents the common answers, and each error response lists codes of src/http/errors.c with its status', () => {
  const table = errorTable();
  assert.ok(table.size > 40, `read ${table.size} codes from src/http/errors.c`);
  const seen = new Set();
  const problems = [];
  for (const { key, op, pointer } of operations()) {
    for (const status of ['400', '405', '413', '500', '503'])
      if (!op.responses[status]) problems.push(`${key} does not document ${status}`);
    const ok = Object.keys(op.responses).filter((s) => /^[23]\d\d$/.test(s));
    if (ok.length === 0) problems.push(`${key} documents no 2xx or 3xx answer`);
    for (const [status, ref] of Object.entries(op.responses)) {
      const [resp] = deref(ref, `${pointer}/responses/${status}`);
      if (!/^[45]\d\d$/.test(status)) continue;
      const json = resp.content && resp.content['application/json'];
      if (!json) { problems.push(`${key} ${status} has no JSON body`); continue; }
      const codes = listedCodes(json.schema);
      const simplejwt = json.schema.$ref === '#/components/schemas/TokenError';
      const ready = key === 'GET /ready/';
      if (codes.length === 0 && !simplejwt) problems.push(`${key} ${status} lists no error codes`);
      for (const { code } of codes) {
        seen.add(code);
        if (!table.has(code)) problems.push(`${key} ${status}: ${code} is not a code of src/http/errors.c`);
        else if (!table.get(code).has(Number(status)) && !(ready && code === 'unavailable'))
          problems.push(`${key} ${status}: src/http/errors.c answers ${code} with ${[...table.get(code)]}`);
      }
    }
    if (op.responses['405'] && deref(op.responses['405'])[0].headers?.Allow === undefined)
      problems.push(`${key} 405 does not document Allow`);
  }
  const unlisted = [...table.keys()].filter((c) => !seen.has(c) && !CODES_NO_ROUTE_ANSWERS.includes(c));
  if (unlisted.length) problems.push(`codes of src/http/errors.c that no response lists: ${unlisted.join(', ')}`);
  assert.deepEqual(problems, []);
});

test('every operation with a body, a query or a path parameter has examples that fit its schemas', () => {
  const problems = [];
  for (const { key, op, pointer } of operations()) {
    for (const [i, p] of (op.parameters || []).entries()) {
      const [param, pp] = deref(p, `${pointer}/parameters/${i}`);
      if (param.example === undefined) problems.push(`${key}: parameter ${param.name} has no example`);
      else {
        const errors = schemaErrors(`${pp}/schema`, param.example);
        if (errors) problems.push(`${key}: example of ${param.name}: ${JSON.stringify(errors)}`);
      }
    }
    if (!op.requestBody) continue;
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      if (media.example === undefined) { problems.push(`${key}: ${type} body has no example`); continue; }
      const errors = schemaErrors(`${pointer}/requestBody/content/${escapePointer(type)}/schema`, media.example);
      if (errors) problems.push(`${key}: ${type} example: ${JSON.stringify(errors)}`);
    }
  }
  assert.deepEqual(problems, []);
});

// ---------------------------------------------------------------- the live server

let server;
const live = {}; // what the live run learns: cookies, tokens, the client, the user's password

before(async () => {
  // one provider, named as the examples name it, unreachable: its routes answer the error page
  server = await startServer({ env: {
    GATEHOUSE_OIDC_PROVIDERS: 'google',
    GATEHOUSE_OIDC_GOOGLE_ISSUER: 'http://127.0.0.1:9',
    GATEHOUSE_OIDC_GOOGLE_CLIENT_ID: 'gatehouse',
  } });
});
after(cleanup);

test('GET /openapi.yaml serves docs/openapi.yaml byte for byte, as cacheable YAML', async () => {
  for (const path of ['/openapi.yaml', '/openapi.yaml/']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/yaml');
    assert.match(res.headers.get('cache-control') || '', /^public, max-age=\d+$/);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(DOC_TEXT), `GET ${path} differs from docs/openapi.yaml (${body.length} vs ${DOC_TEXT.length} bytes): rebuild gatehouse`);
  }
  const head = await fetch(server.url + '/openapi.yaml', { method: 'HEAD' });
  assert.equal(head.status, 200);
});

const find = (operationId) => {
  const o = operations().find((x) => x.op.operationId === operationId);
  assert.ok(o, `docs/openapi.yaml has an operation ${operationId}`);
  return o;
};

/** The example of an operation's request body, for its first (or the given) media type. */
function bodyExample(o, type) {
  const content = o.op.requestBody.content;
  const t = type || Object.keys(content)[0];
  return { type: t, example: content[t].example, schema: content[t].schema };
}

/**
 * The documented request of an operation: path and query parameters from their examples, the
 * body from its example; `over` replaces values with live ones: {path: {name}, query: {name},
 * body: {field}, auth: {cookie | bearer | basic}, type, raw: {body, contentType}}.
 */
function buildRequest(o, over = {}) {
  let path = o.path;
  const query = new URLSearchParams();
  for (const [i, p] of (o.op.parameters || []).entries()) {
    const [param] = deref(p, `${o.pointer}/parameters/${i}`);
    const value = (over[param.in] || {})[param.name] ?? param.example;
    if (param.in === 'path') path = path.replace(`{${param.name}}`, value);
    else if (param.in === 'query' && value !== undefined) query.set(param.name, value);
  }
  const headers = {};
  let body;
  if (over.raw) {
    body = over.raw.body;
    if (over.raw.contentType) headers['content-type'] = over.raw.contentType;
  } else if (o.op.requestBody) {
    const { type, example, schema } = bodyExample(o, over.type);
    const fields = { ...example, ...(over.body || {}) };
    for (const k of over.omit || []) delete fields[k];
    if (type === 'application/json') {
      body = JSON.stringify(fields);
      headers['content-type'] = 'application/json';
    } else if (type === 'application/x-www-form-urlencoded') {
      body = new URLSearchParams(fields).toString();
      headers['content-type'] = type;
    } else if (type === 'multipart/form-data') {
      body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      // a file for every binary part the schema documents (the examples hold text only)
      for (const [name, s] of Object.entries(propSchemas(schema)))
        if (s.format === 'binary' && !(name in fields)) body.append(name, new Blob([png1x1()], { type: 'image/png' }), 'avatar.png');
    } else {
      assert.fail(`${o.key}: no way to send ${type}`);
    }
  }
  const auth = over.auth || {};
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth.basic) headers.authorization = `Basic ${Buffer.from(`${auth.basic.id}:${auth.basic.secret}`).toString('base64')}`;
  const qs = query.toString();
  return { method: over.method || o.method, path: qs ? `${path}?${qs}` : path, headers, body };
}

/** Asserts that the answer r to operation o is one the document describes; returns r. */
function assertDocumented(o, r, what = o.key) {
  const ctx = `${what} → ${r.status} ${r.text.slice(0, 300)}`;
  const ref = o.op.responses[String(r.status)];
  assert.ok(ref, `${ctx}: status ${r.status} is not documented (documented: ${Object.keys(o.op.responses).join(', ')})`);
  const [resp, respPointer] = deref(ref, `${o.pointer}/responses/${r.status}`);
  for (const [name, h] of Object.entries(resp.headers || {})) {
    const [header] = deref(h);
    const values = name.toLowerCase() === 'set-cookie' ? r.headers.getSetCookie() : [r.headers.get(name)].filter((v) => v !== null);
    if (header.required) assert.ok(values.length > 0, `${ctx}: header ${name} is required`);
    if (values.length === 0) continue;
    const s = header.schema || {};
    if (s.type === 'integer') for (const v of values) assert.match(v, /^\d+$/, `${ctx}: ${name} is an integer`);
    if (s.format === 'uri') for (const v of values) assert.doesNotThrow(() => new URL(v), `${ctx}: ${name} is a URI`);
    if (s.pattern) assert.ok(values.some((v) => new RegExp(s.pattern).test(v)), `${ctx}: ${name} ${JSON.stringify(values)} matches ${s.pattern}`);
  }
  const type = (r.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  assert.ok(resp.content, `${ctx}: the document describes no body`);
  assert.ok(type in resp.content, `${ctx}: Content-Type ${type} is not one of ${Object.keys(resp.content).join(', ')}`);
  if (type === 'application/json') {
    assert.match(r.headers.get('content-type'), /charset=utf-8/i, `${ctx}: JSON with charset=utf-8`);
    assert.notEqual(r.body, undefined, `${ctx}: the body is JSON`);
    const errors = schemaErrors(`${respPointer}/content/application~1json/schema`, r.body);
    assert.equal(errors, null, `${ctx}: the body does not fit the documented schema: ${JSON.stringify(errors)}`);
  }
  return r;
}

/** Sends the documented request of o (with live overrides) and checks the answer. */
async function send(o, over = {}, what) {
  const req = buildRequest(o, over);
  const r = await request(server, req.method, req.path, { headers: req.headers, body: req.body });
  return assertDocumented(o, r, what || `${o.key} (${req.method} ${req.path})`);
}

/** The status an operation answers when all goes well: its 2xx, or its 3xx. */
function successStatus(o) {
  const statuses = Object.keys(o.op.responses).map(Number).sort((a, b) => a - b);
  return statuses.find((s) => s >= 200 && s < 300) ?? statuses.find((s) => s >= 300 && s < 400);
}

/**
 * The example value made exactly n characters long, staying valid otherwise: an address keeps
 * its local part and gets a domain of letters and dots, other text is cut or padded.
 */
function sized(example, n) {
  const text = String(example);
  const at = text.indexOf('@');
  if (at < 0) return text.length >= n ? text.slice(0, n) : text + 'b'.repeat(n - text.length);
  const local = text.slice(0, at + 1);
  const room = n - local.length - '.com'.length; // labels and the dots between them
  const count = Math.ceil((room + 1) / 61); // labels of at most 60 letters
  const letters = room - (count - 1);
  const labels = Array.from({ length: count }, (_, i) => 'b'.repeat(Math.floor(letters / count) + (i < letters % count ? 1 : 0)));
  const address = `${local}${labels.join('.')}.com`;
  assert.equal(address.length, n);
  return address;
}

// The codes a value of the right form gets for its length alone (a wrong password or an
// unknown token is a judgement of the value, whatever its length).
const LENGTH_CODES = ['too_long', 'password_too_short', 'password_too_long', 'invalid_email',
  'invalid_first_name', 'invalid_last_name', 'invalid_github_link'];

function securityOf(o) {
  return (o.op.security || doc.security || []).flatMap((req) => Object.keys(req));
}

/** Runs gatehouse against the server's storage (client create); returns stdout. */
function cli(args) {
  return execFileSync(GATEHOUSE_BIN, args, { env: server.env, cwd: server.dataDir, encoding: 'utf8' });
}

test('every documented example request, sent to a live server, gets its documented success answer', async () => {
  const example = (id, type) => bodyExample(find(id), type).example;
  const user = example('register');
  let resetMails = 0;

  // What each operation needs from the live server, in an order where each finds it: the
  // example user registered, confirmed and logged in, its tokens, an OAuth client. Unlisted
  // operations fail the test, so a new route must be added here.
  const plan = [
    ['healthCheck'], ['ready'], ['metrics'], ['openapiDocument'], ['jwks'], ['openidConfiguration'],
    ['oauthAuthorizationServer'], ['listProviders'], ['webHome'], ['webPage'], ['webStatic'],
    ['register'],
    ['confirmEmail', async () => ({ query: { token: new URL(await confirmationLink(server, user.email)).searchParams.get('token') } })],
    ['regenerateToken'],
    ['login', null, (r) => { live.cookie = r.headers.getSetCookie()[0].split(';')[0]; }],
    ['currentUser', () => ({ auth: { cookie: live.cookie } })],
    ['updateUser', () => ({ auth: { cookie: live.cookie } }), (r) => {
      assert.ok(r.body.thumbnail, 'the example upload set an avatar');
      live.avatar = new URL(r.body.thumbnail).pathname.replace(/^\/media\//, '');
    }],
    ['getMedia', () => ({ path: { path: live.avatar } })],
    ['listSessions', () => ({ auth: { cookie: live.cookie } })],
    ['revokeSession', async () => {
      const other = await loginOk(server, user);
      const list = await request(server, 'GET', '/users/sessions/', { cookie: live.cookie });
      const s = list.body.sessions.find((x) => !x.current);
      assert.ok(s, `a second session: ${list.text}`);
      live.otherSession = other;
      return { path: { id: s.id }, auth: { cookie: live.cookie } };
    }],
    ['obtainTokenPair', null, (r) => { live.pair = r.body; }],
    ['verifyAccessToken', () => ({ body: { token: live.pair.access } })],
    ['refreshTokenPair', () => ({ body: { refresh: live.pair.refresh } }), (r) => { live.pair = r.body; }],
    ['blacklistRefreshToken', () => ({ body: { refresh: live.pair.refresh } })],
    ['revokeRefreshToken', async () => {
      const r = await post(server, '/api/token/', { email: user.email, password: user.password });
      assert.equal(r.status, 200, r.text);
      live.pair = r.body;
      return { body: { refresh: r.body.refresh } };
    }],
    ['oauthToken', () => {
      const out = cli(['client', 'create', '--name', 'openapi-docs', '--confidential', '--grant', 'client_credentials']);
      live.client = { id: /client_id=(\S+)/.exec(out)[1], secret: /client_secret=(\S+)/.exec(out)[1] };
      return { body: { client_id: live.client.id, client_secret: live.client.secret } };
    }],
    ['oauthIntrospect', () => ({ body: { token: live.pair.access, client_id: live.client.id, client_secret: live.client.secret } }),
      (r) => assert.equal(r.body.active, true, 'a live access token is active')],
    ['oauthRevoke', () => ({ body: { token: live.pair.refresh, client_id: live.client.id, client_secret: live.client.secret } })],
    ['providerLogin'],
    ['providerCallback'],
    // The example user has linked no provider (that takes a real one): the documented 404.
    ['unlinkProvider', () => ({ auth: { cookie: live.cookie }, expect: 404 })],
    ['changePassword', () => ({ auth: { cookie: live.cookie } }), () => { user.password = example('changePassword').new_password; }],
    ['logout', () => ({ auth: { cookie: live.cookie } })],
    ['requestPasswordReset', null, () => { resetMails += 1; }],
    ['confirmPasswordReset', async () => ({ query: { token: new URL(await passwordResetLink(server, user.email, { count: resetMails })).searchParams.get('token') } }),
      (r) => { live.changeToken = changeTokenOf(r, server.url); }],
    ['resetPassword', () => ({ body: { token: live.changeToken } }), () => { user.password = example('resetPassword').password; }],
  ];

  const planned = plan.map(([id]) => id);
  const unplanned = operations().map((o) => o.op.operationId).filter((id) => !planned.includes(id));
  assert.deepEqual(unplanned, [], 'operations the live run does not send');

  for (const [id, prepare, then] of plan) {
    const o = find(id);
    const over = prepare ? await prepare() : {};
    const r = await send(o, over);
    const expected = over.expect ?? successStatus(o);
    assert.equal(r.status, expected, `${o.key}: expected ${expected}, got ${r.status} ${r.text.slice(0, 300)}`);
    if (then) await then(r);
  }
  // the user can log in with the password the last example set
  await loginOk(server, user);
});

test('the Bearer token works where the document offers bearerAuth', async () => {
  const user = bodyExample(find('register')).example;
  const creds = { email: user.email, password: bodyExample(find('resetPassword')).example.password };
  const r = await post(server, '/api/token/', creds);
  assert.equal(r.status, 200, `${r.text} (runs after the example run, which sets this password)`);
  for (const id of ['currentUser', 'listSessions']) {
    const o = find(id);
    assert.ok(securityOf(o).includes('bearerAuth'));
    const answer = await send(o, { auth: { bearer: r.body.access } }, `${o.key} with a Bearer token`);
    assert.equal(answer.status, successStatus(o));
  }
});

test('requests that break the documented request schemas get documented errors', async () => {
  const user = bodyExample(find('register')).example;
  const password = bodyExample(find('resetPassword')).example.password; // set by the example run
  let cookie = await loginOk(server, { email: user.email, password });
  /** A live password-change token, for checks of resetPassword beyond its token. */
  let resetMails = 1;
  const changeToken = async () => {
    const r = await post(server, '/users/password-change/request-password-change/', { email: user.email });
    assert.equal(r.status, 200, r.text);
    resetMails += 1;
    const link = await passwordResetLink(server, user.email, { count: resetMails });
    return changeTokenOf(await request(server, 'GET', pathOf(link)), server.url);
  };
  const authFor = (o) => (securityOf(o).includes('sessionCookie') ? { cookie } : {});
  let checked = 0;

  for (const o of operations()) {
    const sec = securityOf(o);
    const auth = authFor(o);
    // without credentials: 401 where the operation needs them
    if (sec.includes('sessionCookie') || sec.includes('bearerAuth')) {
      const r = await send(o, {}, `${o.key} without credentials`);
      assert.equal(r.status, 401, `${o.key} without credentials → ${r.status}`);
      checked++;
    }
    if (sec.includes('clientBasic')) {
      const r = await send(o, { omit: ['client_id', 'client_secret'] }, `${o.key} without a client`);
      assert.equal(r.status, 401, `${o.key} without a client → ${r.status} ${r.text}`);
      assert.equal(r.body.error, 'invalid_client');
      const json = await send(o, { raw: { body: '{}', contentType: 'application/json' } }, `${o.key} with a JSON body`);
      assert.equal(json.status, 415, `${o.key} with JSON → ${json.status}`);
      checked += 2;
    }
    if (!o.op.requestBody) continue;
    const { type, schema } = bodyExample(o);
    const props = propSchemas(schema);
    const required = flatSchema(schema).required || [];
    const liveFields = o.op.operationId === 'resetPassword' ? { token: await changeToken() } : {}; // spent by an accepted password
    const expect400 = async (over, field, what) => {
      const r = await send(o, { auth, ...over, body: { ...liveFields, ...(over.body || {}) } }, `${o.key} ${what}`);
      assert.equal(r.status, 400, `${o.key} ${what} → ${r.status} ${r.text}`);
      if (field) assert.equal(r.body.field, field, `${o.key} ${what}: the answer names ${field}: ${r.text}`);
      checked++;
      return r;
    };
    if (type === 'application/json') {
      const bad = await send(o, { auth, raw: { body: '{"not json', contentType: 'application/json' } }, `${o.key} with a broken body`);
      assert.equal(bad.status, 400, `${o.key} with a broken body → ${bad.status} ${bad.text}`);
      assert.equal(bad.body.code, 'invalid_json');
      const plain = await send(o, { auth, type, raw: { body: JSON.stringify({ ...bodyExample(o).example, ...liveFields }), contentType: 'text/plain' } }, `${o.key} as text/plain`);
      assert.equal(plain.status, 415, `${o.key} as text/plain → ${plain.status} ${plain.text}`);
      checked += 2;
      assert.equal(flatSchema(schema).additionalProperties, false, `${o.key}: the JSON body takes no other fields`);
      const unknown = await expect400({ body: { unexpected_field: 'x' } }, 'unexpected_field', 'with an unknown field');
      assert.equal(unknown.body.code, 'unknown_field');
      for (const name of required) {
        const r = await expect400({ omit: [name] }, name, `without ${name}`);
        assert.equal(r.body.code, 'missing_field');
      }
      for (const name of Object.keys(props)) {
        const r = await expect400({ body: { [name]: 42 } }, name, `with a number as ${name}`);
        assert.equal(r.body.code, 'wrong_type');
      }
    }
    // The bounds of every length and pattern, from the example value made longer or shorter:
    // one character past a bound is a 400 naming the field, the bound itself is not refused
    // for that field. The OAuth endpoints judge the client first and treat an unreadable field
    // as absent, so there a value past a bound gets an RFC 6749 error or invalid_client.
    const example = bodyExample(o).example;
    for (const [name, s] of Object.entries(props)) {
      const base = example[name] ?? '';
      const refused = [];
      const accepted = [];
      if (s.maxLength !== undefined) {
        refused.push([sized(base, s.maxLength + 1), `${s.maxLength + 1} characters of ${name}`]);
        accepted.push([sized(base, s.maxLength), `${s.maxLength} characters of ${name}`]);
      }
      if (s.minLength > 0) {
        refused.push([sized(base, s.minLength - 1), `${s.minLength - 1} characters of ${name}`]);
        accepted.push([sized(base, s.minLength), `${s.minLength} characters of ${name}`]);
      }
      if (s.pattern && !new RegExp(s.pattern, 'u').test('b b')) refused.push(['b b', `${name} not matching ${s.pattern}`]);
      for (const [value, what] of refused) {
        if (sec.includes('clientBasic')) {
          const r = await send(o, { body: { [name]: value } }, `${o.key} with ${what}`);
          assert.ok(r.status >= 400 && r.status < 500, `${o.key} with ${what} → ${r.status} ${r.text}`);
          checked++;
        } else {
          await expect400({ body: { [name]: value } }, name, `with ${what}`);
        }
      }
      // a made-up token fails as a token whatever its length: only its limit is checked
      if (sec.includes('clientBasic') || name in liveFields) continue;
      for (const [value, what] of accepted) {
        const r = await send(o, { auth, body: { ...liveFields, [name]: value } }, `${o.key} with ${what}`);
        const forLength = r.status === 400 && r.body.field === name && LENGTH_CODES.includes(r.body.code);
        assert.ok(!forLength, `${o.key} with ${what} is refused for its length: ${r.text}`);
        if (r.status < 300 && 'token' in liveFields) {
          // the password was reset: the token is spent and every session ended
          liveFields.token = await changeToken();
          cookie = await loginOk(server, { email: user.email, password: value });
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} checks`);
});

test('a method a path does not serve answers 405 with Allow naming the documented methods; OPTIONS is a preflight where x-gatehouse-cors says so', async () => {
  const byPath = new Map();
  for (const o of operations()) {
    if (!byPath.has(o.path)) byPath.set(o.path, []);
    byPath.get(o.path).push(o);
  }
  for (const [path, ops] of byPath) {
    const methods = ops.map((o) => o.method);
    const wrong = ['PUT', 'PATCH', 'DELETE', 'POST'].find((m) => !methods.includes(m));
    const req = buildRequest(ops[0], { method: wrong, raw: {} });
    const r = await request(server, wrong, req.path);
    assertDocumented(ops[0], r, `${wrong} ${path}`);
    assert.equal(r.status, 405, `${wrong} ${path} → ${r.status}`);
    assert.deepEqual(r.headers.get('allow').split(/,\s*/).sort(), methods.sort(), `Allow of ${path}`);
    const cors = ops.map((o) => o.op['x-gatehouse-cors'] === true);
    assert.ok(cors.every((c) => c === cors[0]), `the operations of ${path} agree on x-gatehouse-cors`);
    const pre = await request(server, 'OPTIONS', req.path, { headers: { origin: 'https://app.example.com', 'access-control-request-method': methods[0] } });
    if (cors[0]) {
      assert.equal(pre.status, 204, `OPTIONS ${path} → ${pre.status} ${pre.text}`);
      assert.deepEqual(pre.headers.get('allow').split(/,\s*/).sort(), methods.sort(), `Allow of the preflight of ${path}`);
    } else {
      assertDocumented(ops[0], pre, `OPTIONS ${path}`);
      assert.equal(pre.status, 405, `OPTIONS ${path} → ${pre.status}`);
    }
  }
});
