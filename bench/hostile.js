// gatehouse under hostile clients: connection floods, unfinished uploads, and response timing
// that could tell which addresses have accounts. Starts its own gatehouse on a loopback port,
// runs the chosen scenarios, each bounded in time, and prints a table of figures.
//
//   bash bench/hostile.sh [slow] [idle] [upload] [enum]      (see bench/README.md)
//
// Node built-ins only. Progress goes to stderr, the report to stdout.
import net from 'node:net';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mannWhitney, guessRate } from '../tests/support/stats.js';

// What the cleanup must undo.
const sockets = new Set(); // every client socket still open
let server = null; // {proc, pid, port, log, exited}
let tmpDir = null;
let shuttingDown = false;

// ---------------------------------------------------------------- settings

// Nothing runs yet when a setting is wrong: say so and stop.
function badSetting(msg) {
  process.stderr.write(`hostile: error: ${msg}\n`);
  process.exit(2);
}

function intEnv(name, def, min = 0) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v) || Number(v) < min) badSetting(`${name} must be a whole number >= ${min}, got '${v}'`);
  return Number(v);
}

const ALL_SCENARIOS = ['slow', 'idle', 'upload', 'enum'];
const SCENARIO_ALIASES = { 1: 'slow', 2: 'idle', 3: 'upload', 4: 'enum', slowloris: 'slow' };

const cfg = {
  bin: process.env.GATEHOUSE_BIN || 'build/gatehouse',
  scenarios: null, // filled below
  conns: intEnv('HOSTILE_CONNECTIONS', 1100, 1),
  seconds: intEnv('HOSTILE_SECONDS', 45, 1),
  byteInterval: intEnv('HOSTILE_BYTE_INTERVAL', 5, 1),
  floodAddr: process.env.HOSTILE_FLOOD_ADDR || '127.0.0.2',
  reconnect: process.env.HOSTILE_RECONNECT === '1',
  checkIntervalMs: intEnv('HOSTILE_CHECK_INTERVAL_MS', 500, 50),
  checkTimeoutMs: intEnv('HOSTILE_CHECK_TIMEOUT_MS', 5000, 100),
  uploads: intEnv('HOSTILE_UPLOADS', 1000, 1),
  uploadAddrs: intEnv('HOSTILE_UPLOAD_ADDRS', 39, 1),
  uploadBytes: intEnv('HOSTILE_UPLOAD_BYTES', 512 * 1024, 1),
  uploadLength: intEnv('HOSTILE_UPLOAD_LENGTH', 1024 * 1024, 1),
  uploadChunk: intEnv('HOSTILE_UPLOAD_CHUNK', 16 * 1024, 256),
  // libmicrohttpd's form parser refuses boundaries shorter than 2 characters: with one, the
  // server drops the body unread instead of parsing (and buffering) it.
  uploadBoundary: process.env.HOSTILE_UPLOAD_BOUNDARY || 'hostile-boundary',
  uploadSendSeconds: intEnv('HOSTILE_UPLOAD_SEND_SECONDS', 30, 0),
  earlyMs: intEnv('HOSTILE_EARLY_MS', 1000, 0),
  enumSamples: intEnv('HOSTILE_ENUM_SAMPLES', 200, 2),
  enumWarmup: intEnv('HOSTILE_ENUM_WARMUP', 5, 0),
  enumConn: process.env.HOSTILE_ENUM_CONNECTION || 'fresh',
  recoverySeconds: intEnv('HOSTILE_RECOVERY_SECONDS', 60, 1),
  settleSeconds: intEnv('HOSTILE_SETTLE_SECONDS', 40, 0),
  maxSeconds: intEnv('HOSTILE_MAX_SECONDS', 900, 10),
  serverEnv: process.env.HOSTILE_SERVER_ENV || '',
  keep: process.env.HOSTILE_KEEP === '1',
  // Set by hostile.sh: a directory of its own (removed by it too) and where to note the
  // server's pid, so that the wrapper can clean up even when this process is killed.
  tmpDir: process.env.HOSTILE_TMPDIR || '',
  pidFile: process.env.HOSTILE_PIDFILE || '',
};
if (!/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/.test(cfg.uploadBoundary)) badSetting('HOSTILE_UPLOAD_BOUNDARY must be 1-70 characters a boundary may contain (no spaces)');
if (!['fresh', 'keepalive'].includes(cfg.enumConn)) badSetting('HOSTILE_ENUM_CONNECTION must be fresh or keepalive');
if (cfg.uploadAddrs > 253) badSetting('HOSTILE_UPLOAD_ADDRS is at most 253 (127.0.0.2 .. 127.0.0.254)');
if (!net.isIPv4(cfg.floodAddr) || !cfg.floodAddr.startsWith('127.')) badSetting(`HOSTILE_FLOOD_ADDR must be an IPv4 loopback address, got ${cfg.floodAddr}`);
{
  const args = process.argv.slice(2);
  const list = args.length ? args : (process.env.HOSTILE_SCENARIOS || ALL_SCENARIOS.join(' ')).split(/[\s,]+/).filter(Boolean);
  cfg.scenarios = [];
  for (const a of list) {
    const s = SCENARIO_ALIASES[a] || a;
    if (a === '-h' || a === '--help') {
      process.stdout.write('usage: bash bench/hostile.sh [slow|1] [idle|2] [upload|3] [enum|4]   (default: all; settings in bench/README.md)\n');
      process.exit(0);
    }
    if (!ALL_SCENARIOS.includes(s)) badSetting(`unknown scenario '${a}' (slow, idle, upload, enum or 1-4)`);
    if (!cfg.scenarios.includes(s)) cfg.scenarios.push(s);
  }
  cfg.scenarios.sort((a, b) => ALL_SCENARIOS.indexOf(a) - ALL_SCENARIOS.indexOf(b));
}

// ---------------------------------------------------------------- small helpers

function log(msg) { process.stderr.write(`hostile: ${msg}\n`); }
function die(msg) { process.stderr.write(`hostile: error: ${msg}\n`); process.exitCode = 1; shutdown(1); throw new Fatal(msg); }
class Fatal extends Error {}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}
function median(sorted) {
  const n = sorted.length;
  if (!n) return NaN;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
const fmtMs = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '–');
const fmtN = (v) => (Number.isFinite(v) ? String(v) : '–');
const fmtMiB = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : '–');
function countsText(map) {
  const e = Object.entries(map);
  return e.length ? e.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(' ') : 'none';
}
function bump(map, key) { map[key] = (map[key] || 0) + 1; }

// ---------------------------------------------------------------- cleanup

let signalled = false; // a signal handler is stopping everything: other errors are its echo

function track(sock) {
  sockets.add(sock);
  sock.once('close', () => sockets.delete(sock));
  return sock;
}
function destroyAll() {
  for (const s of sockets) s.destroy();
  sockets.clear();
}

async function stopServer() {
  const s = server;
  server = null;
  if (!s || s.done) return s ? s.exitInfo : null;
  try { s.proc.kill('SIGTERM'); } catch {}
  const killer = setTimeout(() => { try { s.proc.kill('SIGKILL'); } catch {} }, 10_000);
  const info = await s.exited;
  clearTimeout(killer);
  return info;
}

function removeTmp() {
  if (!tmpDir) return;
  if (cfg.keep) { log(`kept ${tmpDir}`); return; }
  try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch {}
  tmpDir = null;
}

// Synchronous last resort: no process or directory outlives the script.
function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  destroyAll();
  if (server && !server.done) { try { server.proc.kill('SIGKILL'); } catch {} }
  removeTmp();
  if (code !== undefined) process.exitCode = code;
}
process.on('exit', () => shutdown());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (shuttingDown) return;
    log(`${sig}: stopping`);
    signalled = true;
    destroyAll();
    shuttingDown = true;
    await stopServer().catch(() => {});
    removeTmp();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}
process.on('uncaughtException', (err) => {
  if (signalled) return;
  if (!(err instanceof Fatal)) process.stderr.write(`hostile: error: ${err.stack || err}\n`);
  shutdown(1);
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  if (signalled) return;
  if (!(err instanceof Fatal)) process.stderr.write(`hostile: error: ${(err && err.stack) || err}\n`);
  shutdown(1);
  process.exit(1);
});

// ---------------------------------------------------------------- the server

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binPath = path.isAbsolute(cfg.bin) ? cfg.bin : path.resolve(repoRoot, cfg.bin);
let dataDir = null;

function serverEnv() {
  const env = {};
  // The caller's own gatehouse settings would change what is measured: only ours apply.
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GATEHOUSE_') || k === 'DATABASE_URL' || k === 'REDIS_URL') continue;
    env[k] = v;
  }
  Object.assign(env, {
    GATEHOUSE_LISTEN: '127.0.0.1:0',
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_LOG_FORMAT: 'json',
    GATEHOUSE_LOG_REQUESTS: '0',
    // One address sends every request of the enumeration scenario on purpose.
    GATEHOUSE_RATE_IP_MAX: '100000000',
    GATEHOUSE_RATE_EMAIL_MAX: '100000000',
    GATEHOUSE_RATE_ACCOUNT_MAX: '100000000',
  });
  for (const kv of cfg.serverEnv.split(/\s+/).filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) die(`HOSTILE_SERVER_ENV: '${kv}' is not KEY=VALUE`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

async function startServer() {
  const proc = spawn(binPath, ['serve'], { env: serverEnv(), cwd: dataDir, stdio: ['ignore', 'ignore', 'pipe'] });
  const s = { proc, pid: proc.pid, port: null, log: '', done: false, exitInfo: null };
  s.exited = new Promise((res) => {
    proc.on('exit', (code, signal) => { s.done = true; s.exitInfo = { code, signal }; res(s.exitInfo); });
    proc.on('error', (err) => { s.done = true; s.exitInfo = { code: null, signal: null, error: err.message }; res(s.exitInfo); });
  });
  proc.stderr.setEncoding('utf8');
  // Keep the first MiB of the log (start-up, warnings); read and drop the rest.
  proc.stderr.on('data', (d) => { if (s.log.length < 1 << 20) s.log += d; });
  server = s;
  if (cfg.pidFile) { try { fs.writeFileSync(cfg.pidFile, `${proc.pid}\n`); } catch {} }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !s.done) {
    const m = /listening on [0-9.]+:(\d+)/.exec(s.log);
    if (m) { s.port = Number(m[1]); break; }
    await sleep(50);
  }
  if (!s.port) {
    const info = s.done ? `exited (${exitText(s.exitInfo)})` : 'did not report "listening on" within 10 s';
    die(`gatehouse ${info}\n--- gatehouse log ---\n${s.log.slice(-4000)}`);
  }
  return s;
}

function exitText(info) {
  if (!info) return 'running';
  if (info.error) return info.error;
  return info.signal ? `signal ${info.signal}` : `status ${info.code}`;
}

function procStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k) => { const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text); return m ? Number(m[1]) : NaN; };
    let fds = NaN;
    try { fds = fs.readdirSync(`/proc/${pid}/fd`).length; } catch {}
    return { rss: field('VmRSS'), hwm: field('VmHWM'), threads: field('Threads'), fds };
  } catch {
    return { rss: NaN, hwm: NaN, threads: NaN, fds: NaN };
  }
}

/**
 * The kernel's view of the server's port (IPv4): established connections to it, whether the
 * server has accepted them or they still wait in the listen backlog, and the bytes received
 * that the server has not read yet.
 */
function kernelView(port) {
  const v = { established: 0, unread: 0 };
  let text = '';
  try { text = fs.readFileSync('/proc/net/tcp', 'utf8'); } catch { return { established: NaN, unread: NaN }; }
  // 127.0.0.1 as /proc/net/tcp writes it (little-endian hex), and the port. A client socket
  // on another loopback address may have the same port number.
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[1] !== want || f[3] !== '01') continue;
    v.established++;
    v.unread += parseInt(f[4].split(':')[1], 16);
  }
  return v;
}

// Samples the server's memory, threads and open file descriptors every interval.
function startSampler(intervalMs = 500) {
  const s = server;
  const acc = { peakRss: NaN, peakFds: NaN, last: procStatus(s.pid), samples: 0 };
  const take = () => {
    if (s.done) return;
    const st = procStatus(s.pid);
    if (!Number.isFinite(st.rss)) return;
    acc.last = st;
    acc.samples++;
    acc.peakRss = Number.isFinite(acc.peakRss) ? Math.max(acc.peakRss, st.rss) : st.rss;
    acc.peakFds = Number.isFinite(acc.peakFds) ? Math.max(acc.peakFds, st.fds) : st.fds;
  };
  take();
  const t = setInterval(take, intervalMs);
  return { acc, stop() { clearInterval(t); take(); return acc; } };
}

// ---------------------------------------------------------------- raw HTTP

// Parses one HTTP/1.1 response from buf; returns null until it is complete.
function parseResponse(buf, ended) {
  const he = buf.indexOf('\r\n\r\n');
  if (he < 0) return null;
  const head = buf.subarray(0, he).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0]);
  if (!m) return { status: 0, headers: {}, body: '', raw: head, bad: true };
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) {
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] ? `${headers[k]}\n${v}` : v;
    }
  }
  const bodyStart = he + 4;
  let body;
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length - bodyStart < n) return null;
    body = buf.subarray(bodyStart, bodyStart + n);
  } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const rest = buf.subarray(bodyStart).toString('latin1');
    if (!/(^|\r\n)0\r\n\r\n$/.test(rest)) return ended ? { status: Number(m[1]), headers, body: rest } : null;
    body = rest;
  } else {
    if (!ended) return null;
    body = buf.subarray(bodyStart);
  }
  return { status: Number(m[1]), headers, body: body.toString('utf8'), used: bodyStart + (body.length || 0) };
}

function rawRequest(method, reqPath, { headers = {}, body = null, keepAlive = false } = {}) {
  const b = body == null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let h = `${method} ${reqPath} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  if (b) h += `Content-Length: ${b.length}\r\n`;
  h += keepAlive ? '\r\n' : 'Connection: close\r\n\r\n';
  return b ? Buffer.concat([Buffer.from(h, 'latin1'), b]) : Buffer.from(h, 'latin1');
}

/**
 * One request on a fresh connection. Resolves (never rejects) with
 * {status, headers, body, totalMs (from connect start), ms (from connected), error}.
 */
function httpOnce(method, reqPath, { headers, body, localAddress, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    const payload = rawRequest(method, reqPath, { headers, body });
    const t0 = nowMs();
    let t1 = NaN;
    let buf = Buffer.alloc(0);
    let done = false;
    const sock = track(net.connect({ host: '127.0.0.1', port: server.port, localAddress }));
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const t2 = nowMs();
      resolve({ ...r, totalMs: t2 - t0, ms: t2 - t1 });
    };
    const timer = setTimeout(() => finish({ error: 'timeout' }), timeoutMs);
    sock.setNoDelay(true);
    sock.on('connect', () => { t1 = nowMs(); sock.write(payload); });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResponse(buf, false);
      if (r) finish(r);
    });
    sock.on('end', () => {
      const r = buf.length ? parseResponse(buf, true) : null;
      finish(r || { error: buf.length ? 'bad response' : 'closed without answer' });
    });
    sock.on('error', (e) => finish({ error: e.code || e.message }));
    sock.on('close', () => finish({ error: 'closed' }));
  });
}

/** Sequential requests on one kept-alive connection (reconnects when the server closes it). */
class KeepAliveClient {
  constructor() { this.sock = null; this.reconnects = -1; }
  async connect() {
    this.reconnects++;
    this.sock = track(net.connect({ host: '127.0.0.1', port: server.port }));
    this.sock.setNoDelay(true);
    this.closed = false;
    this.sock.on('close', () => { this.closed = true; if (this.pending) this.pending({ error: 'closed' }); });
    this.sock.on('error', () => {});
    this.sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      const r = parseResponse(this.buf, false);
      if (r && this.pending) { this.buf = this.buf.subarray(r.used); this.pending(r); }
    });
    await new Promise((res) => { this.sock.once('connect', res); this.sock.once('close', res); });
  }
  async request(method, reqPath, opts = {}) {
    if (!this.sock || this.closed) await this.connect();
    this.buf = Buffer.alloc(0);
    const payload = rawRequest(method, reqPath, { ...opts, keepAlive: true });
    return new Promise((resolve) => {
      const t1 = nowMs();
      const timer = setTimeout(() => { this.sock.destroy(); done({ error: 'timeout' }); }, opts.timeoutMs || 10_000);
      const done = (r) => {
        if (!this.pending) return;
        this.pending = null;
        clearTimeout(timer);
        const ms = nowMs() - t1;
        if (r.headers && /close/i.test(r.headers.connection || '')) this.sock.destroy();
        resolve({ ...r, ms, totalMs: ms });
      };
      this.pending = done;
      this.sock.write(payload);
    });
  }
  close() { if (this.sock) this.sock.destroy(); }
}

const json = (o) => ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(o) });

// ---------------------------------------------------------------- account setup

const PASSWORD = `Hostile-${randomBytes(6).toString('hex')}-correct-horse-battery`;
const account = { email: `hostile-${randomBytes(6).toString('hex')}@example.com`, password: PASSWORD, cookie: null };
const unconfirmed = { email: `hostile-unconfirmed-${randomBytes(6).toString('hex')}@example.com` };

function readMailLinks(to, pathPrefix) {
  const dir = path.join(dataDir, 'mail');
  let files = [];
  try { files = fs.readdirSync(dir).filter((f) => f.endsWith('.eml')); } catch { return []; }
  const links = [];
  for (const f of files) {
    let raw = fs.readFileSync(path.join(dir, f), 'utf8');
    const to1 = /^To:\s*(.*)$/im.exec(raw);
    if (!to1 || !to1[1].toLowerCase().includes(to.toLowerCase())) continue;
    if (/^Content-Transfer-Encoding:\s*quoted-printable/im.test(raw)) raw = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
    for (const line of raw.split(/\r?\n/)) {
      const l = line.trim();
      if (/^https?:\/\/\S+$/.test(l) && new URL(l).pathname.startsWith(pathPrefix)) links.push(l);
    }
  }
  return links;
}

async function register(email, password) {
  return httpOnce('POST', '/users/register/', json({ email, password, first_name: 'Hostile', last_name: 'Client' }));
}

async function setupAccounts() {
  let r = await register(account.email, account.password);
  if (r.status !== 201) die(`register answered ${r.status || r.error}: ${r.body || ''}`);
  let link = null;
  const deadline = Date.now() + 10_000;
  while (!link && Date.now() < deadline) {
    link = readMailLinks(account.email, '/users/register/confirm/')[0];
    if (!link) await sleep(100);
  }
  if (!link) die(`no confirmation mail with a link under ${dataDir}/mail`);
  const u = new URL(link);
  r = await httpOnce('GET', u.pathname + u.search);
  if (r.status !== 303 || /regenerate-token/.test(r.headers.location || '')) die(`confirmation link answered ${r.status || r.error} ${r.headers ? r.headers.location : ''}`);
  r = await httpOnce('POST', '/users/login/', json({ email: account.email, password: account.password }));
  if (r.status !== 200) die(`login answered ${r.status || r.error}: ${r.body || ''}`);
  const m = /(?:^|\n)sessionid=([^;\s]*)/.exec(r.headers['set-cookie'] || '');
  if (!m) die('login set no sessionid cookie');
  account.cookie = `sessionid=${m[1]}`;
  r = await sessionCheck();
  if (r.status !== 200) die(`current-user with the new session answered ${r.status || r.error}`);
  if (cfg.scenarios.includes('enum')) {
    r = await register(unconfirmed.email, PASSWORD);
    if (r.status !== 201) die(`register (unconfirmed account) answered ${r.status || r.error}: ${r.body || ''}`);
  }
  log(`account ${account.email} registered, confirmed and logged in`);
}

function sessionCheck(timeoutMs = cfg.checkTimeoutMs) {
  return httpOnce('GET', '/users/current-user/', { headers: { Cookie: account.cookie }, timeoutMs });
}

// ---------------------------------------------------------------- the session-check client

function startChecker() {
  const st = { sent: 0, ok: 0, other: {}, timeout: 0, errors: {}, lat: [], pending: new Set() };
  const fire = () => {
    st.sent++;
    const p = sessionCheck().then((r) => {
      st.pending.delete(p);
      if (r.status) {
        st.lat.push(r.totalMs);
        if (r.status === 200) st.ok++; else bump(st.other, r.status);
      } else if (r.error === 'timeout') st.timeout++;
      else bump(st.errors, r.error);
    });
    st.pending.add(p);
  };
  fire();
  const t = setInterval(fire, cfg.checkIntervalMs);
  return {
    st,
    async stop() { clearInterval(t); await Promise.all([...st.pending]); st.lat.sort((a, b) => a - b); return st; },
  };
}

function checkerRows(st) {
  const answered = st.lat.length;
  const extra = [];
  if (Object.keys(st.other).length) extra.push(`other status ${countsText(st.other)}`);
  extra.push(`timed out ${st.timeout}`);
  if (Object.keys(st.errors).length) extra.push(`errors ${countsText(st.errors)}`);
  return [
    ['session checks answered / sent', `${answered}/${st.sent}  (200: ${st.ok}; ${extra.join('; ')})`],
    ['  latency of answered p50/p99/max ms', answered ? `${fmtMs(percentile(st.lat, 0.5))} / ${fmtMs(percentile(st.lat, 0.99))} / ${fmtMs(st.lat[st.lat.length - 1])}` : '– (none answered)'],
  ];
}

let baseFds = NaN; // the server's open fds when idle, after the account setup

/**
 * After a scenario's clients left: how long until a session check is answered with 200 again,
 * and until the server has closed its side of their connections (open fds back to the idle
 * count, give or take 3).
 */
async function waitRecovery() {
  const t0 = Date.now();
  const limit = cfg.recoverySeconds * 1000;
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  let answered = null;
  while (Date.now() - t0 < limit) {
    if (!server || server.done) return { text: `server gone (${exitText(server && server.exitInfo)})`, fds: '–' };
    const r = await sessionCheck(Math.min(cfg.checkTimeoutMs, limit - (Date.now() - t0) + 1));
    if (r.status === 200) { answered = secs(); break; }
    await sleep(250);
  }
  if (!answered) return { text: `not within ${cfg.recoverySeconds} s`, fds: `${procStatus(server.pid).fds} open` };
  // Then wait for the server's side of the connections to go too, so that the next scenario
  // starts with every slot free; beyond the settle time the leftovers are reported.
  const t1 = Date.now();
  let fds = procStatus(server.pid).fds;
  let at5 = null;
  while (fds > baseFds + 3 && Date.now() - t1 < cfg.settleSeconds * 1000 && !server.done) {
    await sleep(200);
    fds = procStatus(server.pid).fds;
    if (at5 === null && Date.now() - t1 >= 5000) at5 = fds - baseFds;
  }
  const took = ((Date.now() - t1) / 1000).toFixed(1);
  let text;
  if (fds > baseFds + 3) text = `${fds - baseFds} still open ${cfg.settleSeconds} s after the first 200`;
  else if (at5 !== null && at5 > 3) text = `${took} s after the first 200 (${at5} still open after 5 s)`;
  else text = `${took} s after the first 200`;
  return { text: answered, fds: text };
}

// ---------------------------------------------------------------- floods (scenarios 1 and 2)

// The bytes a slow client sends, one at a time: a request that never completes its headers.
const SLOW_BYTES = Buffer.from(`GET /users/current-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(4096)}`, 'latin1');

/** Opens n connections from localAddress in bursts; each is handed to setup(sock, rec). */
async function openMany(n, localAddressOf, setup, st) {
  const burst = 50;
  for (let i = 0; i < n && !shuttingDown; i += burst) {
    for (let j = i; j < Math.min(n, i + burst); j++) openOne(localAddressOf(j), setup, st);
    await sleep(10);
  }
}

function openOne(localAddress, setup, st) {
  st.opened++;
  const rec = { connected: false, ours: false, answered: false, closedByServer: false, sock: null };
  const sock = track(net.connect({ host: '127.0.0.1', port: server.port, localAddress }));
  rec.sock = sock;
  st.recs.push(rec);
  let buf = Buffer.alloc(0);
  sock.on('connect', () => { rec.connected = true; st.connected++; setup(sock, rec); });
  sock.on('data', (d) => {
    if (rec.answered) return;
    buf = Buffer.concat([buf, d]);
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(buf.toString('latin1', 0, Math.min(buf.length, 64)));
    if (m || buf.length >= 64) {
      rec.answered = true;
      rec.status = m ? m[1] : 'garbage';
      bump(st.answers, rec.status);
      if (st.onAnswer) st.onAnswer(rec);
    }
  });
  const gone = (how) => {
    if (rec.ours || rec.gone) return;
    rec.gone = true;
    if (!rec.connected) { bump(st.refused, how); return; }
    rec.closedByServer = true;
    st.closedByServer++;
    bump(st.closeHow, how);
    if (st.onServerClose) st.onServerClose(rec);
  };
  sock.on('end', () => gone('FIN'));
  sock.on('error', (e) => gone(e.code || 'error'));
  sock.on('close', () => gone('closed'));
  return rec;
}

function newFloodStats() {
  return { opened: 0, connected: 0, refused: {}, closedByServer: 0, closeHow: {}, answers: {}, recs: [], reconnects: 0 };
}

function floodEnd(st) {
  for (const rec of st.recs) rec.ours = true; // from here on, closes are ours
  let pending = 0, open = 0;
  for (const rec of st.recs) {
    if (!rec.connected && !rec.gone) pending++;
    if (rec.connected && !rec.gone) open++;
  }
  return { pending, open };
}

async function runFlood(kind) {
  const st = newFloodStats();
  const timers = new Set();
  const setup = kind === 'slow'
    ? (sock, rec) => {
      let i = 0;
      const send = () => { if (!rec.gone && !rec.answered && !sock.destroyed) sock.write(SLOW_BYTES.subarray(i, i + 1)); i = (i + 1) % SLOW_BYTES.length; };
      send();
      // Spread the clients' bytes over the interval, then one byte each interval.
      const first = setTimeout(() => {
        timers.delete(first);
        send();
        const t = setInterval(send, cfg.byteInterval * 1000);
        timers.add(t);
        sock.once('close', () => { clearInterval(t); timers.delete(t); });
      }, Math.random() * cfg.byteInterval * 1000);
      timers.add(first);
    }
    : () => {};
  const t0 = Date.now();
  const endAt = t0 + cfg.seconds * 1000;
  if (cfg.reconnect) {
    st.onServerClose = () => {
      if (Date.now() < endAt - 1000 && !shuttingDown) { st.reconnects++; openOne(cfg.floodAddr, setup, st); }
    };
  }
  const sampler = startSampler();
  const before = sampler.acc.last;
  log(`${kind} flood: opening ${cfg.conns} connections from ${cfg.floodAddr}`);
  await openMany(cfg.conns, () => cfg.floodAddr, setup, st);
  await sleep(300);
  const checker = startChecker();
  while (Date.now() < endAt && !shuttingDown && !server.done) await sleep(200);
  const chk = await checker.stop();
  const end = floodEnd(st);
  const atEnd = procStatus(server.pid);
  const kv = kernelView(server.port);
  for (const t of timers) { clearTimeout(t); clearInterval(t); }
  for (const rec of st.recs) rec.sock.destroy();
  const acc = sampler.stop();
  return { st, chk, end, before, acc, atEnd, kv };
}

function floodRows(res, kind) {
  const { st, chk, end, before, acc } = res;
  const refused = Object.values(st.refused).reduce((a, b) => a + b, 0);
  const rows = [
    ['flood connections opened', `${st.opened}${st.reconnects ? ` (of which ${st.reconnects} reconnects)` : ''}`],
    ['  TCP handshake completed', `${st.connected}`],
    ['  refused / failed before connecting', refused ? `${refused} (${countsText(st.refused)})` : '0'],
    ['  still connecting at the end', `${end.pending}`],
    ['  closed by the server', st.closedByServer ? `${st.closedByServer} (${countsText(st.closeHow)})` : '0'],
    ['  answered by the server (status)', countsText(st.answers)],
    ['  still open at the end', `${end.open}`],
    ['server open fds before / peak (sampled)', `${fmtN(before.fds)} / ${fmtN(acc.peakFds)}`],
    ['at the end: established to the port / server fds', `${fmtN(res.kv.established)} / ${fmtN(res.atEnd.fds)}`],
  ];
  rows.push(...checkerRows(chk));
  rows.push(['server VmRSS before / peak, VmHWM', `${fmtMiB(before.rss)} / ${fmtMiB(acc.peakRss)}, ${fmtMiB(res.atEnd.hwm)}`]);
  return rows;
}

// ---------------------------------------------------------------- unfinished uploads (scenario 3)

function uploadAddr(i) { return `127.0.0.${2 + (i % cfg.uploadAddrs)}`; }

async function runUploads() {
  const st = newFloodStats();
  const timers = new Set();
  let answeredEarly = 0, answeredLater = 0;
  const early = {}, later = {};
  let bodyBytes = 0, fullBodies = 0, bodyStarted = 0;
  const head = Buffer.from(
    `PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`
    + `Content-Type: multipart/form-data; boundary=${cfg.uploadBoundary}\r\n`
    + `Content-Length: ${cfg.uploadLength}\r\n\r\n`, 'latin1');
  // The body: an avatar part whose file never ends. A PNG signature first, then filler.
  const preamble = Buffer.from(`--${cfg.uploadBoundary}\r\nContent-Disposition: form-data; name="thumbnail"; filename="a.png"\r\n'
    + 'Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n`, 'latin1');
  const filler = Buffer.alloc(cfg.uploadChunk, 0x61);
  const total = Math.min(cfg.uploadBytes, cfg.uploadLength);
  const nChunks = Math.max(1, Math.ceil(total / cfg.uploadChunk));
  const chunkGapMs = (cfg.uploadSendSeconds * 1000) / nChunks;

  st.onAnswer = (rec) => {
    if (!rec.bodyStarted) { answeredEarly++; bump(early, rec.status); } else { answeredLater++; bump(later, rec.status); }
  };
  const setup = (sock, rec) => {
    sock.write(head);
    rec.sent = 0;
    const t = setTimeout(() => {
      timers.delete(t);
      if (rec.gone || rec.answered || sock.destroyed) return;
      rec.bodyStarted = true;
      bodyStarted++;
      const next = () => {
        if (rec.gone || rec.answered || sock.destroyed || rec.sent >= total) return;
        let chunk;
        if (rec.sent === 0) chunk = Buffer.concat([preamble, filler]).subarray(0, Math.min(cfg.uploadChunk, total));
        else chunk = filler.subarray(0, Math.min(cfg.uploadChunk, total - rec.sent));
        rec.sent += chunk.length;
        const flushed = sock.write(chunk, (err) => {
          if (err) return;
          bodyBytes += chunk.length;
          if (rec.sent >= total && !rec.full) { rec.full = true; fullBodies++; }
        });
        const later2 = () => { const t2 = setTimeout(() => { timers.delete(t2); next(); }, chunkGapMs); timers.add(t2); };
        if (flushed) later2();
        else sock.once('drain', later2);
      };
      // Spread the clients over one chunk gap, so the writes do not all come at once.
      const t1 = setTimeout(() => { timers.delete(t1); next(); }, Math.random() * chunkGapMs);
      timers.add(t1);
    }, cfg.earlyMs);
    timers.add(t);
  };

  const sampler = startSampler();
  const before = sampler.acc.last;
  const t0 = Date.now();
  const seconds = Math.max(cfg.seconds, Math.ceil(cfg.earlyMs / 1000 + cfg.uploadSendSeconds + 5));
  const endAt = t0 + seconds * 1000;
  log(`uploads: opening ${cfg.uploads} connections from 127.0.0.2..${uploadAddr(Math.min(cfg.uploads, cfg.uploadAddrs) - 1)}, ${total} body bytes each over ${cfg.uploadSendSeconds} s, held ${seconds} s`);
  await openMany(cfg.uploads, uploadAddr, setup, st);
  await sleep(300);
  const checker = startChecker();
  while (Date.now() < endAt && !shuttingDown && !server.done) await sleep(200);
  const chk = await checker.stop();
  const end = floodEnd(st);
  const atEnd = procStatus(server.pid);
  const kv = kernelView(server.port);
  for (const t of timers) clearTimeout(t);
  for (const rec of st.recs) rec.sock.destroy();
  const acc = sampler.stop();
  await sleep(3000);
  const after = server.done ? { rss: NaN } : procStatus(server.pid);
  return { st, chk, end, before, acc, atEnd, after, kv, seconds, answeredEarly, answeredLater, early, later, bodyBytes, fullBodies, bodyStarted, total };
}

function uploadRows(r) {
  const refused = Object.values(r.st.refused).reduce((a, b) => a + b, 0);
  const rows = [
    ['upload connections opened', `${r.st.opened} from ${Math.min(cfg.uploadAddrs, cfg.uploads)} addresses`],
    ['  TCP handshake completed', `${r.st.connected}`],
    ['  refused / failed before connecting', refused ? `${refused} (${countsText(r.st.refused)})` : '0'],
    [`  answered before the body (within ${cfg.earlyMs} ms)`, r.answeredEarly ? `${r.answeredEarly} (${countsText(r.early)})` : '0'],
    ['  answered after the body started', r.answeredLater ? `${r.answeredLater} (${countsText(r.later)})` : '0'],
    ['  closed by the server', r.st.closedByServer ? `${r.st.closedByServer} (${countsText(r.st.closeHow)})` : '0'],
    ['  still open at the end', `${r.end.open}`],
    ['  started their body / sent all of it', `${r.bodyStarted} / ${r.fullBodies}`],
    ['  body bytes handed to the kernel', `${(r.bodyBytes / 1048576).toFixed(1)} MiB`],
    ['server open fds before / peak (sampled)', `${fmtN(r.before.fds)} / ${fmtN(r.acc.peakFds)}`],
    ['at the end: established to the port / server fds', `${fmtN(r.kv.established)} / ${fmtN(r.atEnd.fds)}`],
    ['at the end: bytes received but not read by the server', `${Number.isFinite(r.kv.unread) ? (r.kv.unread / 1048576).toFixed(1) : '–'} MiB`],
    ['server VmRSS before', fmtMiB(r.before.rss)],
    ['server VmRSS peak (sampled) / at end', `${fmtMiB(r.acc.peakRss)} / ${fmtMiB(r.atEnd.rss)}`],
    ['server VmHWM at end', fmtMiB(r.atEnd.hwm)],
    ['server VmRSS 3 s after the clients left', fmtMiB(r.after.rss)],
  ];
  rows.push(...checkerRows(r.chk));
  return rows;
}

// ---------------------------------------------------------------- enumeration timing (scenario 4)

// The statistics (Mann-Whitney U test, guess rate) are the login timing test's: tests/support/stats.js.

const fresh = () => `hostile-${randomBytes(8).toString('hex')}@example.com`;
const ENUM_ROUTES = [
  {
    name: 'register', path: '/users/register/',
    classes: [
      ['existing address', () => ({ email: account.email, password: PASSWORD, first_name: 'Hostile', last_name: 'Client' })],
      ['new address', () => ({ email: fresh(), password: PASSWORD, first_name: 'Hostile', last_name: 'Client' })],
    ],
  },
  {
    name: 'regenerate-token', path: '/users/regenerate-token/',
    classes: [
      ['existing unconfirmed', () => ({ email: unconfirmed.email })],
      ['unknown address', () => ({ email: fresh() })],
    ],
  },
  {
    name: 'request-password-change', path: '/users/password-change/request-password-change/',
    classes: [
      ['existing address', () => ({ email: account.email })],
      ['unknown address', () => ({ email: fresh() })],
    ],
  },
];

async function runEnum() {
  const keep = cfg.enumConn === 'keepalive' ? new KeepAliveClient() : null;
  const send = (route, bodyObj) => (keep
    ? keep.request('POST', route.path, json(bodyObj))
    : httpOnce('POST', route.path, json(bodyObj)));
  const res = ENUM_ROUTES.map((r) => ({ route: r, cls: r.classes.map(([label]) => ({ label, lat: [], status: {} })) }));
  const sampler = startSampler();
  const t0 = Date.now();
  log(`enumeration timing: ${cfg.enumSamples} requests per class (+${cfg.enumWarmup} warm-up), ${cfg.enumConn === 'keepalive' ? 'one kept-alive connection' : 'a fresh connection each'}`);
  for (let i = 0; i < cfg.enumWarmup + cfg.enumSamples && !shuttingDown && !server.done; i++) {
    for (const rr of res) {
      // Alternate the two classes; which goes first changes at random each round.
      const order = Math.random() < 0.5 ? [0, 1] : [1, 0];
      for (const c of order) {
        const r = await send(rr.route, rr.route.classes[c][1]());
        if (i < cfg.enumWarmup) continue;
        const cl = rr.cls[c];
        if (r.status) { cl.lat.push(r.ms); bump(cl.status, r.status); } else bump(cl.status, r.error);
      }
    }
  }
  if (keep) { keep.close(); }
  const acc = sampler.stop();
  const secs = (Date.now() - t0) / 1000;
  for (const rr of res) {
    for (const cl of rr.cls) { cl.lat.sort((a, b) => a - b); cl.med = median(cl.lat); cl.p90 = percentile(cl.lat, 0.9); }
    const [a, b] = rr.cls;
    rr.mw = mannWhitney(a.lat, b.lat);
    rr.guess = guessRate(a.lat, b.lat);
    const sa = Object.keys(a.status).sort().join(','), sb = Object.keys(b.status).sort().join(',');
    rr.statusDiffers = sa !== sb;
  }
  return { res, secs, reconnects: keep ? keep.reconnects : null, acc };
}

function fmtP(p) {
  if (!Number.isFinite(p)) return '–';
  if (p === 0) return '<1e-300';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

// ---------------------------------------------------------------- report

const out = [];
function emit(line = '') { out.push(line); }
function table(rows) {
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [k, v] of rows) emit(`  ${k.padEnd(w)}${v}`);
}

async function ensureServer(name) {
  if (server && !server.done) return true;
  const info = server ? exitText(server.exitInfo) : 'not running';
  if (server) log(`--- last lines of the gatehouse log ---\n${server.log.trimEnd().split('\n').slice(-15).join('\n')}`);
  log(`gatehouse is gone before ${name} (${info}); starting it again on the same data directory`);
  await stopServer();
  await startServer();
  await sleep(500);
  baseFds = procStatus(server.pid).fds;
  const r = await sessionCheck();
  if (r.status !== 200) { log(`the restarted server answers the session check with ${r.status || r.error}`); return false; }
  return true;
}

async function main() {
  const watchdog = setTimeout(() => { log(`still running after HOSTILE_MAX_SECONDS=${cfg.maxSeconds}: giving up`); shutdown(1); process.exit(1); }, cfg.maxSeconds * 1000);
  watchdog.unref();
  if (!fs.existsSync(binPath)) die(`${binPath} not found (run make first, or set GATEHOUSE_BIN)`);
  tmpDir = cfg.tmpDir || fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-hostile-'));
  dataDir = path.join(tmpDir, 'data');
  fs.mkdirSync(dataDir);
  await startServer();
  log(`gatehouse (pid ${server.pid}) on 127.0.0.1:${server.port}, data in ${dataDir}`);
  await setupAccounts();
  const base = procStatus(server.pid);
  baseFds = base.fds;

  const started = new Date();
  emit(`gatehouse hostile clients — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`);
  emit(`server: ${path.relative(repoRoot, binPath) || binPath}, SQLite + file mail in a temporary directory, default settings except rate limits lifted (GATEHOUSE_RATE_*_MAX=100000000)${cfg.serverEnv ? ` and ${cfg.serverEnv}` : ''}`);
  emit(`session check: GET /users/current-user/ with the session cookie from 127.0.0.1, fresh connection, every ${cfg.checkIntervalMs} ms, ${cfg.checkTimeoutMs} ms timeout; latency includes connecting`);
  emit(`server at start: VmRSS ${fmtMiB(base.rss)}, ${base.threads} threads, ${base.fds} open fds`);

  for (const sc of cfg.scenarios) {
    if (shuttingDown) break;
    if (!(await ensureServer(sc))) { emit(); emit(`${ALL_SCENARIOS.indexOf(sc) + 1}. ${sc}: not run, the restarted server does not answer`); continue; }
    const ts = Date.now();
    const load0 = os.loadavg()[0];
    const loadText = () => `load average (1 min) at start / end ${load0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}`;
    let title, rows;
    if (sc === 'slow' || sc === 'idle') {
      const r = await runFlood(sc);
      title = sc === 'slow'
        ? `1. slow-header flood: ${cfg.conns} connections from ${cfg.floodAddr}, one header byte each per ${cfg.byteInterval} s, ${cfg.seconds} s`
        : `2. idle flood: ${cfg.conns} connections from ${cfg.floodAddr} sending nothing${cfg.reconnect ? ' (reconnecting when closed)' : ''}, ${cfg.seconds} s`;
      rows = floodRows(r, sc);
    } else if (sc === 'upload') {
      const r = await runUploads();
      title = `3. unfinished uploads: ${cfg.uploads} × PATCH /users/update-user/ without a cookie, multipart (boundary=${cfg.uploadBoundary}), Content-Length ${cfg.uploadLength}, ${r.total} body bytes each over ${cfg.uploadSendSeconds} s, held ${r.seconds} s`;
      rows = uploadRows(r);
    } else {
      const r = await runEnum();
      title = `4. enumeration timing: ${cfg.enumSamples} requests per class, classes alternated, ${cfg.enumConn === 'keepalive' ? `one kept-alive connection (${r.reconnects} reconnects)` : 'a fresh connection per request'}; latency from sending the request to the full answer`;
      emit();
      emit(title);
      const w = [26, 22, 16, 9, 9, 10, 7];
      emit(`  ${'route'.padEnd(w[0])}${'class'.padEnd(w[1])}${'status'.padEnd(w[2])}${'p50 ms'.padStart(w[3])}${'p90 ms'.padStart(w[4])}${'U test p'.padStart(w[5])}${'guess'.padStart(w[6])}`);
      for (const rr of r.res) {
        rr.cls.forEach((cl, i) => {
          emit(`  ${(i ? '' : rr.route.name).padEnd(w[0])}${cl.label.padEnd(w[1])}${countsText(cl.status).padEnd(w[2])}${fmtMs(cl.med).padStart(w[3])}${fmtMs(cl.p90).padStart(w[4])}${(i ? '' : fmtP(rr.mw.p)).padStart(w[5])}${(i ? '' : `${(rr.guess * 100).toFixed(0)}%`).padStart(w[6])}`);
        });
      }
      const leaks = r.res.filter((rr) => rr.statusDiffers).map((rr) => rr.route.name);
      emit(`  (guess: accuracy of "slower than the midpoint of the two medians → the slower class"; 50% = chance.${leaks.length ? ` Status codes alone tell the classes apart on: ${leaks.join(', ')}.` : ''})`);
      emit(`  ${(r.secs).toFixed(1)} s; server VmRSS peak ${fmtMiB(r.acc.peakRss)}; ${loadText()}`);
      continue;
    }
    const rec = await waitRecovery();
    rows.push(['after the clients left: first 200 after', rec.text]);
    rows.push(['  server closed their connections', rec.fds]);
    if (server && server.done) rows.push(['server process', `EXITED during the scenario (${exitText(server.exitInfo)})`]);
    rows.push(['machine', loadText()]);
    emit();
    emit(title);
    table(rows);
    log(`${sc} done in ${((Date.now() - ts) / 1000).toFixed(0)} s`);
  }
  const alive = server && !server.done;
  const info = await stopServer();
  emit();
  emit(`server at the end: ${alive ? `stopped on SIGTERM, ${exitText(info)}` : `had exited (${exitText(info)})`}`);
  clearTimeout(watchdog);
  removeTmp();
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  if (signalled) return;
  if (!(err instanceof Fatal)) process.stderr.write(`hostile: error: ${err.stack || err}\n`);
  if (out.length) process.stdout.write(`${out.join('\n')}\n`);
  shutdown(1);
  process.exit(1);
});
