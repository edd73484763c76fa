// Start and stop real gatehouse processes for the black-box API tests, and read what they
// leave behind: mail files, the SQLite database, the stderr log.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { createDatabaseAt, databaseUrl, PG_BIN } from './postgres.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GATEHOUSE_BIN = (() => {
  const bin = process.env.GATEHOUSE_BIN || 'build/gatehouse';
  return isAbsolute(bin) ? bin : resolve(REPO_ROOT, bin);
})();

export const PASSWORD = 'correct horse battery staple 42';
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
export const SESSION_RE = /^[A-Za-z0-9_-]{43,}$/;

/**
 * Rate limits high enough that ordinary tests, which all come from 127.0.0.1, never meet
 * them; the rate-limit tests set their own values through opts.env.
 */
export const GENEROUS_RATE_LIMITS = {
  GATEHOUSE_RATE_IP_MAX: '100000',
  GATEHOUSE_RATE_ACCOUNT_MAX: '100000',
  GATEHOUSE_RATE_ACCOUNT_CEILING: '100000',
  GATEHOUSE_RATE_EMAIL_MAX: '100000',
};

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

const running = new Set(); // servers not yet stopped
const tempDirs = new Set(); // data dirs to remove at cleanup

export function randomEmail(prefix = 'u') {
  return `${prefix}-${randomUUID()}@example.com`;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A fresh temporary data directory, removed by cleanup(). */
export function makeDataDir() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  tempDirs.add(dir);
  return dir;
}

/**
 * Start `gatehouse serve` on an ephemeral loopback port.
 * opts.dataDir: reuse a data directory (restart tests); default a fresh temp dir.
 * opts.env: extra environment variables for this server.
 * opts.defaultRateLimits: keep the server's own rate limits (else GENEROUS_RATE_LIMITS).
 * Resolves with {url, port, dataDir, proc, stderr(), stop()}.
 */
/** Servers stopped with SIGTERM: their exit status and log, checked by cleanup(). */
const stopped = [];

export async function startServer(opts = {}) {
  if (!existsSync(GATEHOUSE_BIN)) {
    throw new Error(`gatehouse binary not found at ${GATEHOUSE_BIN} (set GATEHOUSE_BIN or build it)`);
  }
  const dataDir = opts.dataDir || makeDataDir();
  const env = {
    ...process.env,
    GATEHOUSE_LISTEN: '127.0.0.1:0',
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_LOG_FORMAT: 'json',
    ...(await backendEnv(dataDir, opts.env || {})),
    ...(opts.defaultRateLimits ? {} : GENEROUS_RATE_LIMITS),
    ...(opts.env || {}),
  };
  const proc = spawn(GATEHOUSE_BIN, ['serve'], { env, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrBuf = '';
  let stdoutBuf = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdoutBuf += d; });

  const exited = new Promise((res) => {
    proc.on('exit', (code, signal) => res({ code, signal }));
    proc.on('error', (err) => res({ code: null, signal: null, error: err }));
  });

  const server = {
    dataDir,
    env, // the environment it runs with, for commands that must reach the same storage
    proc,
    url: null,
    port: null,
    exited,
    stderr: () => stderrBuf,
    stdout: () => stdoutBuf,
    stopped: false,
    /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (null if killed by a signal). */
    async stop() {
      if (server.stopped) return (await exited).code;
      server.stopped = true;
      running.delete(server);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch {} }, STOP_TIMEOUT_MS);
        const r = await exited;
        clearTimeout(t);
        // A server that ran and was asked to stop must exit 0, without a sanitizer report
        // (the ASan build exits non-zero on a leak): cleanup() fails the file otherwise.
        stopped.push({ code: r.code, signal: r.signal, stderr: stderrBuf });
        return r.code;
      }
      return (await exited).code;
    },
  };
  running.add(server);

  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => fail(new Error(`gatehouse did not report "listening on" within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    function fail(err) {
      clearTimeout(timer);
      err.message += `\n--- gatehouse stderr ---\n${stderrBuf}\n--- gatehouse stdout ---\n${stdoutBuf}`;
      rej(err);
    }
    let found = false;
    proc.stderr.on('data', (d) => {
      stderrBuf += d;
      if (found) return;
      const m = /listening on ([0-9.]+):(\d+)/.exec(stderrBuf);
      if (m) {
        found = true;
        clearTimeout(timer);
        res(Number(m[2]));
      }
    });
    exited.then((r) => {
      if (!found) fail(new Error(`gatehouse exited before listening (code ${r.code}, signal ${r.signal}${r.error ? ', ' + r.error.message : ''})`));
    });
  }).catch(async (err) => {
    await server.stop();
    throw err;
  });
  server.port = port;
  server.url = `http://127.0.0.1:${port}`;
  return server;
}

// ---------------------------------------------------------------- storage backends
//
// GATEHOUSE_TEST_BACKEND (set by tests/run-node-tests.js) picks what a server stores its data
// in: sqlite (default, <dataDir>/gatehouse.db), postgres (a fresh database per data dir on the
// cluster of GATEHOUSE_TEST_PG_ADMIN_URL) or postgres+redis (plus a Redis logical database per
// data dir on 127.0.0.1:GATEHOUSE_TEST_REDIS_PORT). A restart on the same data dir finds the
// same databases again: they are remembered here and in <dataDir>/.pgdb and .redisdb.

export const BACKEND = process.env.GATEHOUSE_TEST_BACKEND || 'sqlite';
const pgDatabases = new Map(); // dataDir → database name
const redisDatabases = new Map(); // dataDir → logical database index

function pgAdminUrl() {
  const url = process.env.GATEHOUSE_TEST_PG_ADMIN_URL;
  if (!url) throw new Error(`GATEHOUSE_TEST_BACKEND=${BACKEND} needs GATEHOUSE_TEST_PG_ADMIN_URL (run the suite with node tests/run-node-tests.js)`);
  return url;
}

function readMarker(dataDir, file) {
  const path = join(dataDir, file);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
}

/** The PostgreSQL URL of the server on dataDir, or null on SQLite. */
function pgUrlOf(dataDir) {
  if (!BACKEND.startsWith('postgres')) return null;
  const name = pgDatabases.get(dataDir) || readMarker(dataDir, '.pgdb');
  return name ? databaseUrl(pgAdminUrl(), name) : null;
}

/** One Redis command over a fresh connection (RESP); resolves with the reply line. */
function redisCommand(port, ...args) {
  return new Promise((res, rej) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(5000, () => { sock.destroy(); rej(new Error('redis command timed out')); });
    sock.on('error', rej);
    sock.on('connect', () => sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`));
    sock.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\r\n');
      if (i < 0) return;
      sock.destroy();
      if (buf[0] === '-') rej(new Error(`redis: ${buf.slice(1, i)}`));
      else res(buf.slice(1, i));
    });
  });
}

/** The DATABASE_URL / REDIS_URL a server on dataDir gets, unless the test set its own. */
async function backendEnv(dataDir, given) {
  const env = {};
  if (BACKEND.startsWith('postgres') && !given.DATABASE_URL) {
    let name = pgDatabases.get(dataDir) || readMarker(dataDir, '.pgdb');
    if (!name) {
      name = `gh_${randomUUID().replace(/-/g, '')}`;
      await createDatabaseAt(pgAdminUrl(), name);
      writeFileSync(join(dataDir, '.pgdb'), `${name}\n`);
    }
    pgDatabases.set(dataDir, name);
    env.DATABASE_URL = databaseUrl(pgAdminUrl(), name);
  }
  if (BACKEND.endsWith('+redis') && !given.REDIS_URL) {
    const port = process.env.GATEHOUSE_TEST_REDIS_PORT;
    if (!port) throw new Error(`GATEHOUSE_TEST_BACKEND=${BACKEND} needs GATEHOUSE_TEST_REDIS_PORT`);
    let db = redisDatabases.get(dataDir) || readMarker(dataDir, '.redisdb');
    if (!db) {
      // A counter in database 0 hands every server (of every test process) its own database.
      db = String(((Number(await redisCommand(port, 'INCR', 'gatehouse-test:next-db')) - 1) % 4095) + 1);
      writeFileSync(join(dataDir, '.redisdb'), `${db}\n`);
    }
    redisDatabases.set(dataDir, db);
    env.REDIS_URL = `redis://127.0.0.1:${port}/${db}`;
  }
  return env;
}

/** Stop every server still running and remove the temp data dirs. Use in after(). */
const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

export async function cleanup() {
  await Promise.all([...running].map((s) => s.stop()));
  for (const dir of tempDirs) {
    try { rmSync(dir, { recursive: true, force: true }); } catch {}
  }
  tempDirs.clear();
  const bad = stopped.filter((s) => s.code !== 0 || SANITIZER_REPORT.test(s.stderr));
  stopped.length = 0;
  if (bad.length) {
    const s = bad[0];
    throw new Error(`${bad.length} gatehouse process(es) did not stop cleanly on SIGTERM (exit ${s.code}, signal ${s.signal}):\n${s.stderr.split('\n').slice(-40).join('\n')}`);
  }
}

process.on('exit', () => {
  for (const s of running) { try { s.proc.kill('SIGKILL'); } catch {} }
});

// ---------------------------------------------------------------- HTTP

/**
 * A request over a fresh connection from the local address `localAddress` (a loopback alias
 * such as 127.0.0.2, so the server sees another client IP). Resolves like fetch's answer:
 * {status, headers (a Headers), text}.
 */
function requestFromAddress(localAddress, url, method, headers, body) {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const h = { ...headers };
    if (typeof body === 'string') h['content-length'] = String(Buffer.byteLength(body));
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, localAddress, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('error', rej);
      r.on('end', () => {
        const out = new Headers();
        for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) out.append(r.rawHeaders[i], r.rawHeaders[i + 1]);
        res({ status: r.statusCode, headers: out, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', rej);
    req.end(body);
  });
}

/**
 * One HTTP request. opts: {json, body, headers, cookie, redirect, from}.
 * `json` is serialised with Content-Type application/json; `body` is sent as given.
 * `from`: a loopback alias (127.0.0.2, …) to send from, so the server sees another client IP.
 * Resolves with {status, headers, text, body (parsed JSON or undefined), res}.
 */
export async function request(server, method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  if (opts.cookie) headers.cookie = opts.cookie;
  const url = path.startsWith('http') ? path : server.url + path;
  if (opts.from) {
    const r = await requestFromAddress(opts.from, url, method, headers, body);
    let parsed;
    try { parsed = r.text.length ? JSON.parse(r.text) : undefined; } catch { parsed = undefined; }
    return { ...r, body: parsed };
  }
  const res = await fetch(url, { method, headers, body, redirect: opts.redirect || 'manual' });
  const text = await res.text();
  let parsed;
  try { parsed = text.length ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, text, body: parsed, res };
}

export const get = (server, path, opts) => request(server, 'GET', path, opts);
export const post = (server, path, json, opts = {}) => request(server, 'POST', path, { ...opts, json });

function isJsonContentType(ct) {
  return /^application\/json\s*(;|$)/i.test(ct || '');
}

/** Every JSON answer is application/json (with charset utf-8). */
export function assertJsonContentType(r) {
  const ct = r.headers.get('content-type');
  assert.ok(isJsonContentType(ct), `content-type should be application/json, got ${ct}; body: ${r.text}`);
  assert.match(ct, /charset=utf-8/i, `content-type should say charset=utf-8, got ${ct}`);
}

/** Messages and error sentences never contain = & # + (SPEC §1). */
export function assertCleanSentence(s, what = 'message') {
  assert.equal(typeof s, 'string', `${what} should be a string`);
  assert.ok(s.length > 0, `${what} should not be empty`);
  assert.doesNotMatch(s, /[=&#+]/, `${what} must not contain = & # +: ${JSON.stringify(s)}`);
}

/**
 * Assert a non-2xx JSON error answer: status, JSON content type, string `error`,
 * and (when given) `code` and `field`.
 */
export function expectError(r, status, code, field) {
  const ctx = `${r.status} ${r.text}`;
  if (Array.isArray(status)) assert.ok(status.includes(r.status), `status ${r.status} not in ${status}: ${ctx}`);
  else assert.equal(r.status, status, `status: ${ctx}`);
  assertJsonContentType(r);
  assert.ok(r.body && typeof r.body === 'object' && !Array.isArray(r.body), `body should be a JSON object: ${ctx}`);
  assertCleanSentence(r.body.error, 'error');
  if (code !== undefined) {
    if (Array.isArray(code)) assert.ok(code.includes(r.body.code), `code ${r.body.code} not in ${code}: ${ctx}`);
    else assert.equal(r.body.code, code, `code: ${ctx}`);
  }
  if (field !== undefined) assert.equal(r.body.field, field, `field: ${ctx}`);
  return r.body;
}

/** Assert a 2xx `{"message": ...}` answer. */
export function expectMessage(r, status = 200) {
  assert.equal(r.status, status, `status: ${r.status} ${r.text}`);
  assertJsonContentType(r);
  assertCleanSentence(r.body && r.body.message, 'message');
  return r.body;
}

// ---------------------------------------------------------------- cookies

/** The single Set-Cookie header of a response, as a string (asserts there is exactly one). */
export function singleSetCookie(r) {
  const all = r.headers.getSetCookie();
  assert.equal(all.length, 1, `expected exactly one Set-Cookie, got ${JSON.stringify(all)}`);
  return all[0];
}

/** `sessionid=<value>` from a login answer (asserts exactly one Set-Cookie named sessionid). */
export function sessionCookie(r) {
  const sc = singleSetCookie(r);
  assert.ok(sc.startsWith('sessionid='), `Set-Cookie should start with sessionid=: ${sc}`);
  const value = sc.slice('sessionid='.length).split(';')[0];
  return `sessionid=${value}`;
}

/** `gh_device=<value>` from an answer that sets the device cookie, or null when it sets none. */
export function deviceCookie(r) {
  const sc = r.headers.getSetCookie().find((c) => c.startsWith('gh_device='));
  return sc ? sc.split(';')[0] : null;
}

export function cookieValue(cookie) {
  return cookie.slice(cookie.indexOf('=') + 1);
}

// ---------------------------------------------------------------- mail files

/** Parse RFC 5322 header block into a lower-cased name → value map (last wins) plus a list. */
function parseHeaders(block) {
  const unfolded = block.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  const map = {};
  for (const line of unfolded.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    map[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return map;
}

function decodeEncodedWords(s) {
  return s.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _cs, enc, text) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });
}

function decodeBody(body, cte) {
  const enc = (cte || '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function splitHead(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return [raw, ''];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

/**
 * Parse one RFC 5322 message (as text). Returns {headers, from, to, subject, contentType,
 * parts: [{contentType, headers, body}], text, html, raw}.
 */
export function parseMail(raw) {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  const contentType = headers['content-type'] || 'text/plain';
  const parts = [];
  const bm = /boundary="?([^";]+)"?/i.exec(contentType);
  if (/^multipart\//i.test(contentType) && bm) {
    const boundary = bm[1];
    const chunks = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      const [ph, pb] = splitHead(chunk.replace(/^\r?\n/, ''));
      const h = parseHeaders(ph);
      parts.push({ headers: h, contentType: h['content-type'] || 'text/plain', body: decodeBody(pb, h['content-transfer-encoding']) });
    }
  } else {
    parts.push({ headers, contentType, body: decodeBody(body, headers['content-transfer-encoding']) });
  }
  const text = parts.find((p) => /^text\/plain/i.test(p.contentType));
  const html = parts.find((p) => /^text\/html/i.test(p.contentType));
  return {
    raw,
    headers,
    from: headers.from,
    to: headers.to,
    subject: decodeEncodedWords(headers.subject || ''),
    contentType,
    parts,
    text: text ? text.body : undefined,
    html: html ? html.body : undefined,
  };
}

/**
 * All mails written by the file transport into <dataDir>/mail/, in the order they were queued:
 * a file is named after its outbox row (zero-padded row id, then creation time), so the names
 * sort in queue order, and the last one is the newest mail.
 */
export function readMails(dataDir) {
  const dir = join(dataDir, 'mail');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml') && !f.startsWith('.'))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      return { file: path, name: f, ...parseMail(readFileSync(path, 'utf8')) };
    });
}

/** The outbox row id a mail file is named after (`<19-digit id>-<created>.eml`). */
export function mailRowId(mail) {
  const m = /^(\d{19})-(\d+)\.eml$/.exec(mail.name || '');
  assert.ok(m, `mail file name ${mail.name} is <19-digit row id>-<created>.eml`);
  return Number(m[1]);
}

export function mailIsTo(mail, to) {
  return (mail.to || '').toLowerCase().includes(to.toLowerCase());
}

/**
 * Wait until the outbox worker has resolved every mail request (rows with `request` set): each
 * has become a mail to send or has been dropped. After this, counts of outbox rows per
 * recipient are the mails that will go out.
 */
export async function mailRequestsResolved(dataDir, { timeoutMs = 5000 } = {}) {
  await waitUntil(() => sql(dataDir, 'SELECT count(*) AS n FROM mail_outbox WHERE request IS NOT NULL')[0].n === 0,
    { timeoutMs, what: 'the outbox worker to resolve the mail requests' });
}

/**
 * Poll <dataDir>/mail every 50 ms until `count` mails to `to` (and with a subject containing
 * subjectIncludes) exist. Resolves with those mails; rejects after timeoutMs.
 */
export async function waitForMail(dataDir, { to, subjectIncludes, count = 1, timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = readMails(dataDir).filter((m) => (!to || mailIsTo(m, to)) && (!subjectIncludes || m.subject.includes(subjectIncludes)));
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) {
      const all = readMails(dataDir).map((m) => `${m.to} | ${m.subject}`);
      throw new Error(`waited ${timeoutMs} ms for ${count} mail(s) to ${to}; found ${mails.length}. All mails: ${JSON.stringify(all)}`);
    }
    await sleep(50);
  }
}

/**
 * The link whose path starts with pathPrefix, standing on a line of its own in a mail's
 * text part. Returns the URL string (throws if none).
 */
export function extractLink(mailText, pathPrefix) {
  assert.equal(typeof mailText, 'string', 'mail has no text part');
  for (const rawLine of mailText.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!/^https?:\/\/\S+$/.test(line)) continue;
    const u = new URL(line);
    if (u.pathname.startsWith(pathPrefix)) return line;
  }
  throw new Error(`no link to ${pathPrefix} on a line of its own in:\n${mailText}`);
}

/** The token query parameter of a link, checked against the token alphabet. */
export function tokenOf(link) {
  const t = new URL(link).searchParams.get('token');
  assert.match(t || '', TOKEN_RE, `token in ${link}`);
  return t;
}

/** The path + query of a link, to call it on another server process (restart tests). */
export function pathOf(link) {
  const u = new URL(link);
  return u.pathname + u.search;
}

// ---------------------------------------------------------------- database

/**
 * Run a query on the server's database and return the rows: the sqlite3 CLI on
 * <dataDir>/gatehouse.db, or psql on the server's PostgreSQL database. Booleans come back as
 * 1/0 from both, as SQLite stores them.
 */
export function sql(dataDir, query) {
  const pgUrl = pgUrlOf(dataDir);
  if (pgUrl) {
    // Rows as one JSON array: a query wrapped as a subquery, a statement with RETURNING as a
    // CTE; other statements return no rows, as with the sqlite3 CLI.
    const q = query.trim().replace(/;+$/, '');
    const wrapped = /^(select|with|values)\b/i.test(q) ? `SELECT coalesce(json_agg(t), '[]') FROM (${q}) t`
      : /\breturning\b/i.test(q) ? `WITH t AS (${q}) SELECT coalesce(json_agg(t), '[]') FROM t`
        : `${q}; SELECT '[]'`;
    const out = execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl, '-c', wrapped], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(out).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v])));
  }
  const out = execFileSync('sqlite3', ['-cmd', '.timeout 5000', '-json', join(dataDir, 'gatehouse.db'), query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

/**
 * Makes the PostgreSQL database of the server on dataDir refuse writes (readOnly true) or accept
 * them again: `default_transaction_read_only` on the database, then the server's connections
 * are ended so that it reconnects with the new setting. A no-op returning false on SQLite.
 */
export function setDatabaseReadOnly(dataDir, readOnly) {
  const pgUrl = pgUrlOf(dataDir);
  if (!pgUrl) return false;
  const name = pgDatabases.get(dataDir) || readMarker(dataDir, '.pgdb');
  const psql = (url, q) => execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', q], { encoding: 'utf8' });
  psql(pgAdminUrl(), `ALTER DATABASE "${name}" SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
  psql(pgAdminUrl(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
  return true;
}

/** A full text dump of the database (every table, every column). */
export function sqlDump(dataDir) {
  const pgUrl = pgUrlOf(dataDir);
  if (pgUrl) return execFileSync(join(PG_BIN, 'pg_dump'), ['--no-owner', '-d', pgUrl], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, 'gatehouse.db'), '.dump'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

// ---------------------------------------------------------------- sessions, wherever they live
//
// Sessions are rows of the sessions table, or Redis hashes (gh:s:<token hash>) when the server
// runs with REDIS_URL. These helpers read and change them alike on every backend.

/** The Redis port and logical database of the server on dataDir, or null without Redis. */
function redisOf(dataDir) {
  if (!BACKEND.endsWith('+redis')) return null;
  const db = redisDatabases.get(dataDir) || readMarker(dataDir, '.redisdb');
  return db ? { port: process.env.GATEHOUSE_TEST_REDIS_PORT, db } : null;
}

function redisCli(r, ...args) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(r.port), '-n', String(r.db), '--raw', ...args], { encoding: 'utf8' });
}

const SESSION_NUMBERS = ['created_at', 'expires_at', 'last_seen_at'];

/** Every session of the server as rows {token_hash, id, user_id, created_at, expires_at,
 * last_seen_at, ip, user_agent}, optionally filtered by a predicate. */
export function sessionRows(dataDir, where = () => true) {
  const r = redisOf(dataDir);
  if (!r) return sql(dataDir, 'SELECT * FROM sessions').filter(where);
  const keys = redisCli(r, '--scan', '--pattern', 'gh:s:*').split('\n').filter(Boolean);
  const rows = keys.map((key) => {
    const flat = redisCli(r, 'HGETALL', key).split('\n');
    const h = {};
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]] = flat[i + 1];
    const row = { token_hash: key.slice('gh:s:'.length), id: h.id, user_id: h.user_id, ip: h.ip, user_agent: h.ua };
    for (const k of SESSION_NUMBERS) row[k] = Number(h[k]);
    return row;
  });
  return rows.filter(where);
}

/** Sets time fields of the session with public id `id` (e.g. {expires_at: …}). */
export function updateSession(dataDir, id, fields) {
  const r = redisOf(dataDir);
  if (!r) {
    const set = Object.entries(fields).map(([k, v]) => `${k} = ${Number(v)}`).join(', ');
    sql(dataDir, `UPDATE sessions SET ${set} WHERE id = ${sqlQuote(id)}`);
    return;
  }
  const [row] = sessionRows(dataDir, (s) => s.id === id);
  if (!row) throw new Error(`no session ${id}`);
  const args = Object.entries(fields).flatMap(([k, v]) => [k, String(Number(v))]);
  redisCli(r, 'HSET', `gh:s:${row.token_hash}`, ...args);
}

/** Everything the server stores, as text: the database dump plus, with Redis, every key and
 * value. For checks that a secret is stored nowhere. */
export function storageDump(dataDir) {
  let text = sqlDump(dataDir);
  const r = redisOf(dataDir);
  if (r) {
    for (const key of redisCli(r, '--scan').split('\n').filter(Boolean)) {
      const type = redisCli(r, 'TYPE', key).trim();
      const value = type === 'hash' ? redisCli(r, 'HGETALL', key) : type === 'set' ? redisCli(r, 'SMEMBERS', key) : redisCli(r, 'GET', key);
      text += `\n${key}\n${value}`;
    }
  }
  return text;
}

export function sqlQuote(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

/** Wait until fn() returns a truthy value (polling every 50 ms) or fail after timeoutMs. */
export async function waitUntil(fn, { timeoutMs = 5000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------- flows

export function registration(email, password = PASSWORD, extra = {}) {
  return { email, password, first_name: 'Ada', last_name: 'Lovelace', ...extra };
}

/** POST /users/register/ and assert 201. */
export async function register(server, { email = randomEmail(), password = PASSWORD, ...extra } = {}) {
  const r = await post(server, '/users/register/', registration(email, password, extra));
  expectMessage(r, 201);
  return { email, password };
}

/** The newest confirmation link mailed to `email` (file transport). */
export async function confirmationLink(server, email, { count = 1, timeoutMs = 5000 } = {}) {
  const mails = await waitForMail(server.dataDir, { to: email, count, timeoutMs });
  return extractLink(mails[mails.length - 1].text, '/users/register/confirm/');
}

/** GET a confirmation link (path + query of it) on `server`; returns the answer. */
export function openLink(server, link) {
  return get(server, pathOf(link));
}

/** Register, confirm through the mailed link, and return {email, password}. */
export async function registerAndConfirm(server, { email = randomEmail(), password = PASSWORD, ...extra } = {}) {
  await register(server, { email, password, ...extra });
  const link = await confirmationLink(server, email);
  const r = await openLink(server, link);
  assert.equal(r.status, 303, `confirm: ${r.status} ${r.text}`);
  assert.match(r.headers.get('location') || '', /\/auth\/confirmed$/);
  return { email, password };
}

/** POST /users/login/. Resolves with {r, user, cookie} (cookie only on 200). */
export async function login(server, { email, password = PASSWORD }, opts = {}) {
  const r = await post(server, '/users/login/', { email, password }, opts);
  if (r.status !== 200) return { r, user: undefined, cookie: undefined };
  return { r, user: r.body, cookie: sessionCookie(r) };
}

/** Log in and assert 200; returns the session cookie `sessionid=...`. */
export async function loginOk(server, creds, opts) {
  const { r, cookie } = await login(server, creds, opts);
  assert.equal(r.status, 200, `login: ${r.status} ${r.text}`);
  return cookie;
}

/** The server still answers health-check and an existing user can still log in. */
export async function assertNothingLost(server, creds) {
  const h = await get(server, '/health-check/');
  assert.equal(h.status, 200, `health-check after abuse: ${h.status} ${h.text}`);
  const cookie = await loginOk(server, creds);
  const me = await get(server, '/users/current-user/', { cookie });
  assert.equal(me.status, 200, `current-user after abuse: ${me.status} ${me.text}`);
  assert.equal(me.body.email, creds.email.toLowerCase());
}

// ---------------------------------------------------------------- shapes

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The user object of SPEC §2.1, exactly. */
/** The keys of the user object; current-user adds `providers` (the linked sign-in providers). */
function assertUserKeys(u) {
  const keys = Object.keys(u).filter((k) => k !== 'providers');
  assert.deepEqual(keys.sort(), ['date_joined', 'email', 'first_name', 'id', 'is_active', 'is_staff', 'is_superuser', 'last_name', 'profile', 'thumbnail'].sort());
  if ('providers' in u) {
    assert.ok(Array.isArray(u.providers), 'providers is a list');
    for (const p of u.providers) assert.equal(typeof p, 'string');
  }
}

export function assertUserObject(u, email) {
  assertUserKeys(u);
  assert.match(u.id, UUID_RE);
  assert.equal(u.email, email);
  assert.equal(typeof u.first_name, 'string');
  assert.equal(typeof u.last_name, 'string');
  assert.equal(u.is_active, true);
  assert.equal(u.is_staff, false);
  assert.equal(u.is_superuser, false);
  assert.equal(u.thumbnail, null);
  assert.match(u.date_joined, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  const joined = Date.parse(u.date_joined);
  assert.ok(Math.abs(joined - Date.now()) < 10 * 60 * 1000, `date_joined ${u.date_joined} is about now`);
  assert.deepEqual(Object.keys(u.profile).sort(), ['birth_date', 'github_link', 'id', 'phone_number', 'user_id']);
  assert.match(u.profile.id, UUID_RE);
  assert.equal(u.profile.user_id, u.id);
  assert.equal(u.profile.phone_number, null);
  assert.equal(u.profile.birth_date, null);
  assert.equal(u.profile.github_link, null);
}

/**
 * The user object of SPEC §2.1 with any values: the same keys and types as assertUserObject,
 * but profile fields and thumbnail may be set.
 */
export function assertUserShape(u, email) {
  assertUserKeys(u);
  assert.match(u.id, UUID_RE);
  if (email !== undefined) assert.equal(u.email, email);
  for (const k of ['first_name', 'last_name']) assert.equal(typeof u[k], 'string', k);
  for (const k of ['is_active', 'is_staff', 'is_superuser']) assert.equal(typeof u[k], 'boolean', k);
  assert.ok(u.thumbnail === null || /^https?:\/\/\S+$/.test(u.thumbnail), `thumbnail is null or an absolute URL: ${u.thumbnail}`);
  assert.match(u.date_joined, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.deepEqual(Object.keys(u.profile).sort(), ['birth_date', 'github_link', 'id', 'phone_number', 'user_id']);
  assert.match(u.profile.id, UUID_RE);
  assert.equal(u.profile.user_id, u.id);
  for (const k of ['phone_number', 'github_link']) assert.ok(u.profile[k] === null || typeof u.profile[k] === 'string', k);
  assert.ok(u.profile.birth_date === null || /^\d{4}-\d{2}-\d{2}$/.test(u.profile.birth_date), `birth_date ${u.profile.birth_date}`);
  assert.ok(!('password' in u) && !('password_hash' in u), 'no password hash leaves the server');
}

/** GET /users/current-user/ and assert 200; resolves with the user object. */
export async function currentUser(server, cookie) {
  const r = await get(server, '/users/current-user/', { cookie });
  assert.equal(r.status, 200, `current-user: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * PATCH /users/update-user/ as multipart/form-data. `fields` maps part names to strings or to
 * files `{bytes, filename, type}`. opts.headers adds request headers.
 */
export function updateUser(server, cookie, fields = {}, opts = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value && typeof value === 'object' && value.bytes !== undefined) {
      form.append(name, new Blob([value.bytes], { type: value.type || 'application/octet-stream' }), value.filename || 'file');
    } else {
      form.append(name, value);
    }
  }
  return request(server, 'PATCH', '/users/update-user/', { cookie, body: form, headers: opts.headers });
}

/** A 429 rate_limited answer with a Retry-After of 1..maxSeconds. */
export function expectRateLimited(r, maxSeconds) {
  expectError(r, 429, 'rate_limited');
  const ra = r.headers.get('retry-after');
  assert.match(ra || '', /^\d+$/, `Retry-After: ${ra}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= maxSeconds, `Retry-After ${ra} within the window of ${maxSeconds} s`);
}

// ---------------------------------------------------------------- images

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A valid 1x1 RGBA PNG of the given colour. opts.padTo: pad with an ancillary `tEXt` chunk so
 * the file is exactly that many bytes (still a valid PNG).
 */
export function png1x1([r, g, b, a] = [255, 0, 0, 255], opts = {}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const head = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.from([0, r, g, b, a]))),
  ]);
  const end = pngChunk('IEND', Buffer.alloc(0));
  if (!opts.padTo) return Buffer.concat([head, end]);
  const fill = opts.padTo - head.length - end.length - 12; // a chunk costs 12 bytes + data
  assert.ok(fill >= 8, `padTo ${opts.padTo} too small`);
  const text = Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.alloc(fill - 8, 0x61)]);
  return Buffer.concat([head, pngChunk('tEXt', text), end]);
}

// ---------------------------------------------------------------- password reset

export const RESET_LINK_PATH = '/users/password-change/confirm/change-password/';

/**
 * Wait until `count` mails to `email` carry a password-reset link; resolves with the newest
 * link (an absolute URL).
 */
export async function passwordResetLink(server, email, { count = 1, timeoutMs = 5000 } = {}) {
  const mails = await waitUntil(() => {
    const found = readMails(server.dataDir).filter((m) => mailIsTo(m, email) && (m.text || '').includes(RESET_LINK_PATH));
    return found.length >= count ? found : null;
  }, { timeoutMs, what: `${count} password-reset mail(s) to ${email}` });
  return extractLink(mails[mails.length - 1].text, RESET_LINK_PATH);
}

/**
 * The password-change token of a reset-link answer: asserts the 303 to
 * `${frontend}/auth/password/change-password?token=<43 chars>` and returns the token.
 */
export function changeTokenOf(r, frontendUrl) {
  assert.equal(r.status, 303, `reset link: ${r.status} ${r.text}`);
  const loc = r.headers.get('location') || '';
  const prefix = `${frontendUrl}/auth/password/change-password?token=`;
  assert.ok(loc.startsWith(prefix), `Location ${loc} should start with ${prefix}`);
  const token = loc.slice(prefix.length);
  assert.match(token, TOKEN_RE, `password-change token in ${loc}`);
  return token;
}

/**
 * Request a reset for `email`, open the mailed link and return the password-change token.
 * opts.count: how many reset mails to `email` exist after this request (default 1).
 */
export async function passwordChangeToken(server, email, { count = 1 } = {}) {
  expectMessage(await post(server, '/users/password-change/request-password-change/', { email }));
  const link = await passwordResetLink(server, email, { count });
  return changeTokenOf(await get(server, pathOf(link)), server.url);
}
