// A throwaway redis-server on loopback for the tests: no persistence, 4096 logical databases so
// each gatehouse server under test can have its own. Stopped by stop(), and also when the
// process exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { freePort } from './ports.js';

const START_TIMEOUT_MS = 10_000;
const servers = new Set(); // {proc, dir} not yet stopped

/** Resolves true when redis on port answers PING with +PONG. */
function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

async function startOn(port, dir) {
  const proc = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--databases', '4096', '--daemonize', 'no',
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.on('exit', res));
  let gone = false;
  exited.then(() => { gone = true; });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    if (await ping(port)) return { proc, exited, log: () => log };
    await new Promise((r) => setTimeout(r, 50));
  }
  try { proc.kill('SIGKILL'); } catch {}
  throw new Error(`redis-server on port ${port} did not answer PING:\n${log}`);
}

/** Start redis-server. Resolves with {port, url(dbIndex), stop()}. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  let started;
  let lastErr;
  let port;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    try { started = await startOn(port, dir); } catch (err) { lastErr = err; }
  }
  if (!started) {
    rmSync(dir, { recursive: true, force: true });
    throw lastErr;
  }
  const entry = { proc: started.proc, dir };
  servers.add(entry);
  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    async stop() {
      if (!servers.delete(entry)) return;
      if (started.proc.exitCode === null && started.proc.signalCode === null) {
        started.proc.kill('SIGTERM');
        const t = setTimeout(() => { try { started.proc.kill('SIGKILL'); } catch {} }, 5000);
        await started.exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

process.on('exit', () => {
  for (const s of servers) {
    try { s.proc.kill('SIGKILL'); } catch {}
    try { rmSync(s.dir, { recursive: true, force: true }); } catch {}
  }
});
