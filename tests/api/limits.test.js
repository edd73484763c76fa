// Limits that keep slow or greedy clients from pinning the server: per-connection inactivity
// timeout, the connection limit, and the size of the header block.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, cleanup, get, registerAndConfirm, assertNothingLost, sleep } from '../support/server.js';

after(cleanup);

/** Opens a raw TCP connection; resolves once connected with {sock, closed: Promise<ms>}. */
function connect(server, localAddress = '127.0.0.1') {
  return new Promise((res, rej) => {
    const started = Date.now();
    const sock = net.connect({ port: server.port, host: '127.0.0.1', localAddress });
    const closed = new Promise((r) => sock.on('close', () => r(Date.now() - started)));
    sock.on('error', () => {});
    sock.once('connect', () => res({ sock, closed }));
    sock.once('error', rej);
  });
}

test('a client that stops sending halfway through its headers is disconnected after the timeout', async () => {
  const s = await startServer({ env: { GATEHOUSE_CONNECTION_TIMEOUT: '1' } });
  const { sock, closed } = await connect(s);
  sock.write('GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const ms = await Promise.race([closed, sleep(8000).then(() => Infinity)]);
  assert.ok(ms < 8000, 'the server closed the stalled connection');
  assert.equal((await get(s, '/health-check/')).status, 200, 'other clients are served meanwhile');
  await s.stop();
});

test('an idle keep-alive connection is closed after the timeout', async () => {
  const s = await startServer({ env: { GATEHOUSE_CONNECTION_TIMEOUT: '1' } });
  const { sock, closed } = await connect(s);
  let answer = '';
  sock.on('data', (d) => { answer += d; });
  sock.write('GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const ms = await Promise.race([closed, sleep(8000).then(() => Infinity)]);
  assert.match(answer, /^HTTP\/1\.1 200/, 'the request itself was answered');
  assert.ok(ms < 8000, 'the idle connection was closed');
  await s.stop();
});

test('beyond GATEHOUSE_MAX_CONNECTIONS a new connection waits unserved until others close', async () => {
  // one connection per address, from four addresses, so the per-address cap (one of four) is
  // not what refuses the fifth
  const s = await startServer({ env: { GATEHOUSE_MAX_CONNECTIONS: '4', GATEHOUSE_CONNECTION_TIMEOUT: '30', GATEHOUSE_HEADER_TIMEOUT: '30' } });
  const idle = [];
  for (let i = 0; i < 4; i++) idle.push(await connect(s, `127.0.0.${i + 2}`));
  await sleep(200);
  const extra = await connect(s, '127.0.0.9');
  let answer = '';
  extra.sock.on('data', (d) => { answer += d; });
  extra.sock.write('GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await sleep(1500);
  assert.equal(answer, '', 'no answer while the limit is reached');
  for (const c of idle) c.sock.destroy();
  await Promise.race([extra.closed, sleep(5000)]);
  assert.match(answer, /^HTTP\/1\.1 200/, 'served once the other connections closed');
  assert.equal((await get(s, '/health-check/')).status, 200);
  await s.stop();
});

test('a header block larger than the connection memory is refused and the server stays up', async () => {
  const s = await startServer();
  const creds = await registerAndConfirm(s);
  const { sock, closed } = await connect(s);
  let answer = '';
  sock.on('data', (d) => { answer += d; });
  sock.write(`GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\n\r\n`);
  await Promise.race([closed, sleep(5000)]);
  sock.destroy();
  assert.match(answer, /^HTTP\/1\.1 4\d\d/, `refused with a 4xx: ${answer.slice(0, 40)}`);
  await assertNothingLost(s, creds);
  await s.stop();
});
