// Login flood for bench/run.sh: POST /users/login/ at a fixed rate (open loop: requests go out
// on schedule whether or not earlier ones were answered), over many kept-alive connections
// from several loopback addresses, and count the answers by status with their latencies.
//
//   node bench/flood.js PORT RATE SECONDS BODY_FILE
//
// Environment (optional): FLOOD_ADDRS source addresses 127.0.0.2 onwards [8];
// FLOOD_SOCKETS connections per address [100] (below the server's per-address limit of 128);
// FLOOD_TIMEOUT_MS per request [10000].
// Prints one line on stdout:
//   FLOOD rate=600 seconds=8.00 sent=4800 unsent=0 ok=420 s503=4300 s429=0 other=0 errors=80
//         timeouts=0 refused_p50_ms=1.2 refused_p99_ms=9.8 ok_p50_ms=1100 peak_inflight=120
// "unsent" counts requests not sent because every connection was busy (the client, not the
// server, was the limit).
import http from 'node:http';
import fs from 'node:fs';

const [port, rate, seconds] = process.argv.slice(2, 5).map(Number);
const body = fs.readFileSync(process.argv[5]);
if (!(port > 0 && rate > 0 && seconds > 0)) {
  process.stderr.write('usage: node bench/flood.js PORT RATE SECONDS BODY_FILE\n');
  process.exit(2);
}
const nAddrs = Number(process.env.FLOOD_ADDRS || 8);
const perAddr = Number(process.env.FLOOD_SOCKETS || 100);
const timeoutMs = Number(process.env.FLOOD_TIMEOUT_MS || 10000);

const agents = [];
for (let i = 0; i < nAddrs; i++) {
  agents.push(new http.Agent({ keepAlive: true, maxSockets: perAddr, localAddress: `127.0.0.${2 + i}` }));
}
const capacity = nAddrs * perAddr;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const st = { sent: 0, unsent: 0, ok: 0, s503: 0, s429: 0, other: 0, errors: 0, timeouts: 0 };
const refusedMs = [], okMs = [];
let inflight = 0, peak = 0, next = 0;

function fire() {
  if (inflight >= capacity) { st.unsent++; return; }
  const agent = agents[next++ % agents.length];
  inflight++;
  peak = Math.max(peak, inflight);
  st.sent++;
  const t0 = now();
  let done = false;
  const finish = (kind, status) => {
    if (done) return;
    done = true;
    inflight--;
    const ms = now() - t0;
    if (kind === 'error') st.errors++;
    else if (kind === 'timeout') st.timeouts++;
    else if (status === 200) { st.ok++; okMs.push(ms); }
    else if (status === 503) { st.s503++; refusedMs.push(ms); }
    else if (status === 429) { st.s429++; refusedMs.push(ms); }
    else st.other++;
  };
  const req = http.request({
    host: '127.0.0.1', port, path: '/users/login/', method: 'POST', agent,
    headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
  }, (res) => {
    res.on('data', () => {});
    res.on('end', () => finish('answer', res.statusCode));
    res.on('error', () => finish('error'));
  });
  req.setTimeout(timeoutMs, () => { finish('timeout'); req.destroy(); });
  req.on('error', () => finish('error'));
  req.end(body);
}

const pct = (a, p) => {
  if (!a.length) return NaN;
  a.sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))];
};
const f = (v) => (Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : 2) : 'nan');

const start = now();
const total = Math.round(rate * seconds);
let issued = 0;
// Every 2 ms, send what the schedule says should have gone out by now.
const tick = setInterval(() => {
  const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate));
  while (issued < due) { issued++; fire(); }
  if (issued >= total) { clearInterval(tick); drain(); }
}, 2);

function drain() {
  const sentFor = (now() - start) / 1000;
  const deadline = now() + timeoutMs + 1000;
  const wait = setInterval(() => {
    if (inflight > 0 && now() < deadline) return;
    clearInterval(wait);
    for (const a of agents) a.destroy();
    process.stdout.write(`FLOOD rate=${rate} seconds=${sentFor.toFixed(2)} sent=${st.sent} unsent=${st.unsent} `
      + `ok=${st.ok} s503=${st.s503} s429=${st.s429} other=${st.other} errors=${st.errors} timeouts=${st.timeouts} `
      + `refused_p50_ms=${f(pct(refusedMs, 0.5))} refused_p99_ms=${f(pct(refusedMs, 0.99))} `
      + `ok_p50_ms=${f(pct(okMs, 0.5))} peak_inflight=${peak}\n`);
    process.exit(0);
  }, 20);
}
process.on('SIGTERM', () => { for (const a of agents) a.destroy(); process.exit(143); });
process.on('SIGINT', () => { for (const a of agents) a.destroy(); process.exit(130); });
