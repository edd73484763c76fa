// Unfinished unauthenticated uploads for bench/run.sh: COUNT connections send the headers of
// a multipart PATCH /users/update-user/ without a session cookie (Content-Length 1 MiB) and the
// first 16 KiB of its body, then one more chunk a second, never finishing; they are held
// SECONDS, while the server's resident memory is sampled every 100 ms from /proc/PID/status.
// The same request as scenario 3 of bench/hostile.js, shorter.
//
//   node bench/uploads.js PORT PID COUNT SECONDS
//
// Connections come from 127.0.0.2 onwards, UPLOAD_ADDRS addresses [39], so that no address
// exceeds the server's per-address connection limit. Prints one line on stdout:
//   UPLOADS count=1000 connected=1000 answered=401x1000 closed_by_server=1000 open_at_end=0
//           rss_before_kib=9000 rss_peak_kib=12000 rss_end_kib=10000 fds_peak=20
import net from 'node:net';
import fs from 'node:fs';

const [port, pid, count, seconds] = process.argv.slice(2, 6).map(Number);
if (!(port > 0 && pid > 0 && count > 0 && seconds > 0)) {
  process.stderr.write('usage: node bench/uploads.js PORT PID COUNT SECONDS\n');
  process.exit(2);
}
const nAddrs = Number(process.env.UPLOAD_ADDRS || 39);
const boundary = 'bench-upload-boundary';
const head = Buffer.from(`PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
  + `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 1048576\r\n\r\n`, 'latin1');
const chunk = Buffer.alloc(16384, 0x61);
const first = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="thumbnail"; `
  + 'filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n', 'latin1'), chunk]);

function proc() {
  const out = { rss: NaN, fds: NaN };
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    if (m) out.rss = Number(m[1]);
    out.fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch { /* the server is gone: NaN */ }
  return out;
}

const socks = [];
const answers = {};
let connected = 0, closedByServer = 0, ending = false;
const before = proc();
let peakRss = before.rss, peakFds = before.fds;
const sampler = setInterval(() => {
  const p = proc();
  if (p.rss > peakRss) peakRss = p.rss;
  if (p.fds > peakFds) peakFds = p.fds;
}, 100);

function open(i) {
  const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % nAddrs)}` });
  const rec = { s, answered: false, gone: false, timer: null };
  socks.push(rec);
  s.on('connect', () => {
    connected++;
    s.write(head);
    s.write(first);
    rec.timer = setInterval(() => { if (!rec.gone) s.write(chunk); }, 1000);
  });
  s.on('data', (d) => {
    if (rec.answered) return;
    rec.answered = true;
    const m = /^HTTP\/1\.\d (\d{3})/.exec(d.toString('latin1', 0, 16));
    const k = m ? m[1] : 'other';
    answers[k] = (answers[k] || 0) + 1;
  });
  const gone = () => {
    if (rec.gone) return;
    rec.gone = true;
    clearInterval(rec.timer);
    if (!ending) closedByServer++;
  };
  s.on('error', gone);
  s.on('close', gone);
}

(async () => {
  for (let i = 0; i < count; i += 50) {
    for (let j = i; j < Math.min(count, i + 50); j++) open(j);
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const end = proc();
  ending = true;
  clearInterval(sampler);
  const openAtEnd = socks.filter((r) => !r.gone).length;
  for (const r of socks) { clearInterval(r.timer); r.s.destroy(); }
  const ans = Object.entries(answers).map(([k, v]) => `${k}x${v}`).join(',') || 'none';
  process.stdout.write(`UPLOADS count=${count} connected=${connected} answered=${ans} closed_by_server=${closedByServer} `
    + `open_at_end=${openAtEnd} rss_before_kib=${before.rss} rss_peak_kib=${peakRss} rss_end_kib=${end.rss} fds_peak=${peakFds}\n`);
  process.exit(0);
})();
process.on('SIGTERM', () => { for (const r of socks) r.s.destroy(); process.exit(143); });
process.on('SIGINT', () => { for (const r of socks) r.s.destroy(); process.exit(130); });
