// Hostile clients: malformed forms, smuggling-prone framing, bodies before authentication,
// connection floods from one address, trickled headers and bodies, and the memory all uploads
// may hold together. Each attack must get a clear JSON answer (or a closed connection where no
// answer is due), leave the data as it was, and leave other clients served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startServer, cleanup, get, registerAndConfirm, loginOk, currentUser, updateUser,
  assertNothingLost, expectError, sleep, png1x1,
} from '../support/server.js';

after(cleanup);

/**
 * Sends raw bytes on a fresh connection (from opts.localAddress) and collects the answer until
 * the server closes or opts.timeoutMs passes. Resolves with {text, closedByServer}.
 */
function raw(server, bytes, { localAddress = '127.0.0.1', timeoutMs = 5000, end = true } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port: server.port, host: '127.0.0.1', localAddress });
    let text = '';
    let closedByServer = false;
    const timer = setTimeout(() => { sock.destroy(); resolve({ text, closedByServer }); }, timeoutMs);
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('error', () => {});
    sock.on('close', () => { closedByServer = true; clearTimeout(timer); resolve({ text, closedByServer }); });
    sock.on('connect', () => { sock.write(bytes); if (end) sock.end(); });
  });
}

/** The status, headers and JSON body of the first answer in a raw reply. */
function parseAnswer(text) {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  const rest = text.slice(head.length + 4);
  const len = Number(headers['content-length'] || 0);
  let body;
  try { body = JSON.parse(rest.slice(0, len)); } catch { body = undefined; }
  return { status, headers, body, rest: rest.slice(len) };
}

function patchRequest({ cookie, contentType, body, extraHeaders = '' }) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  return Buffer.concat([
    Buffer.from(`PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
      (cookie ? `Cookie: ${cookie}\r\n` : '') + `Content-Type: ${contentType}\r\n` +
      `Content-Length: ${b.length}\r\n${extraHeaders}\r\n`, 'latin1'),
    b,
  ]);
}

async function userWithSession(s) {
  const creds = await registerAndConfirm(s, { first_name: 'Ada', last_name: 'Lovelace' });
  const cookie = await loginOk(s, creds);
  return { creds, cookie };
}

// ---------------------------------------------------------------- forms

test('a multipart part without a name is refused with 400 invalid_form and the server stays up', async () => {
  const s = await startServer();
  const { creds, cookie } = await userWithSession(s);
  for (const disposition of ['Content-Disposition: form-data\r\n', '', 'Content-Disposition: form-data; filename="a.png"\r\n']) {
    const body = `--XyZ\r\n${disposition}\r\nx\r\n--XyZ--\r\n`;
    const { text } = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body }));
    const a = parseAnswer(text);
    assert.equal(a.status, 400, text);
    assert.equal(a.body.code, 'invalid_form', text);
  }
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada');
  await assertNothingLost(s, creds);
  await s.stop();
});

test('a NUL byte in a text field is refused with 400 naming the field, nothing stored', async () => {
  const s = await startServer();
  const { cookie } = await userWithSession(s);
  const body = '--XyZ\r\nContent-Disposition: form-data; name="phone_number"\r\n\r\n' +
    '+4915112345678\0; DROP TABLE users\r\n--XyZ--\r\n';
  const { text } = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body }));
  const a = parseAnswer(text);
  assert.equal(a.status, 400, text);
  assert.equal(a.body.code, 'invalid_characters');
  assert.equal(a.body.field, 'phone_number');
  const r = await get(s, '/users/update-user/'.replace('update-user', 'current-user'), { cookie });
  assert.equal(r.body.profile.phone_number, null, 'the phone number was not stored');
  const enc = await raw(s, patchRequest({ cookie, contentType: 'application/x-www-form-urlencoded', body: 'first_name=Bob%00by' }));
  const e = parseAnswer(enc.text);
  assert.equal(e.status, 400, enc.text);
  assert.equal(e.body.code, 'invalid_characters');
  assert.equal(e.body.field, 'first_name');
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada');
  await s.stop();
});

test('a field given twice is refused with 400 duplicate_field instead of being joined', async () => {
  const s = await startServer();
  const { cookie } = await userWithSession(s);
  const part = (name, value) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const bodies = [
    part('first_name', 'Ada') + part('first_name', 'Bob') + '--XyZ--\r\n',
    part('first_name', 'Ada') + part('last_name', 'B') + part('first_name', 'Bob') + '--XyZ--\r\n',
  ];
  for (const body of bodies) {
    const { text } = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body }));
    const a = parseAnswer(text);
    assert.equal(a.status, 400, text);
    assert.equal(a.body.code, 'duplicate_field', text);
    assert.equal(a.body.field, 'first_name');
  }
  // an empty part then a second one of the same name cannot be told apart by the parser's
  // callbacks: the part count of the raw body catches it
  const { text } = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body: part('first_name', '') + part('first_name', 'Bob') + '--XyZ--\r\n' }));
  assert.equal(parseAnswer(text).status, 400, text);
  const enc = await raw(s, patchRequest({ cookie, contentType: 'application/x-www-form-urlencoded', body: 'first_name=Ada&first_name=Bob' }));
  assert.equal(parseAnswer(enc.text).status, 400, enc.text);
  assert.equal(parseAnswer(enc.text).body.code, 'duplicate_field');
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada');
  await s.stop();
});

test('a multipart body that does not match its boundary, never closes it or is garbage gets 400', async () => {
  const s = await startServer();
  const { cookie } = await userWithSession(s);
  const good = '--XyZ\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nBob\r\n--XyZ--\r\n';
  const cases = [
    ['wrong boundary', 'multipart/form-data; boundary=Other', good],
    ['garbage', 'multipart/form-data; boundary=XyZ', 'this is not a form at all, just bytes'],
    ['never closed', 'multipart/form-data; boundary=XyZ', good.replace('--XyZ--\r\n', '')],
    ['boundary is one quote', 'multipart/form-data; boundary="', good],
    ['no boundary', 'multipart/form-data', good],
    ['boundary too long', `multipart/form-data; boundary=${'b'.repeat(71)}`, good],
  ];
  for (const [what, contentType, body] of cases) {
    const { text } = await raw(s, patchRequest({ cookie, contentType, body }));
    const a = parseAnswer(text);
    assert.equal(a.status, 400, `${what}: ${text}`);
    assert.equal(a.body.code, 'invalid_form', `${what}: ${text}`);
  }
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada', 'nothing was changed');
  const ok = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body: good }), { end: false });
  assert.equal(parseAnswer(ok.text).status, 200, ok.text);
  assert.equal((await currentUser(s, cookie)).first_name, 'Bob', 'the well-formed form is applied');
  await s.stop();
});

test('a form with more parts than the server reads is refused, not silently cut', async () => {
  const s = await startServer();
  const { cookie } = await userWithSession(s);
  let body = '';
  for (let i = 0; i < 20; i++) body += `--XyZ\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`;
  body += '--XyZ\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nBob\r\n--XyZ--\r\n';
  const { text } = await raw(s, patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body }));
  const a = parseAnswer(text);
  assert.equal(a.status, 400, text);
  assert.equal(a.body.code, 'invalid_form');
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada');
  await s.stop();
});

// ---------------------------------------------------------------- bodies before authentication

test('an upload without a valid session gets its 401 before the body is sent', async () => {
  const s = await startServer();
  const { creds } = await userWithSession(s);
  for (const cookie of [undefined, 'sessionid=not-a-session', 'sessionid=' + 'A'.repeat(43)]) {
    const head = 'PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      (cookie ? `Cookie: ${cookie}\r\n` : '') +
      'Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 1048576\r\n\r\n';
    // only the headers are sent; the answer must come without the body
    const { text } = await raw(s, head, { end: false, timeoutMs: 5000 });
    const a = parseAnswer(text);
    assert.equal(a.status, 401, `answered before the body: ${JSON.stringify(text.slice(0, 80))}`);
    assert.equal(a.body.code, 'not_authenticated');
  }
  // with Expect: 100-continue the client is told no instead of "continue"
  const { text } = await raw(s, 'PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n' +
    'Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 10\r\n\r\n', { end: false });
  assert.match(text, /^HTTP\/1\.1 401 /, text.slice(0, 60));
  await assertNothingLost(s, creds);
  await s.stop();
});

test('a small body without a session is read and dropped, and the connection stays usable', async () => {
  const s = await startServer();
  const body = '--XyZ\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nBob\r\n--XyZ--\r\n';
  const one = `PATCH /users/update-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const two = 'GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
  const { text } = await raw(s, one + two);
  const first = parseAnswer(text);
  assert.equal(first.status, 401, text);
  assert.match(first.rest, /^HTTP\/1\.1 200 /, 'the next request on the connection was answered');
  await s.stop();
});

test('uploads together cannot hold more memory than GATEHOUSE_BODY_MEMORY_MIB: the next gets 503', async () => {
  const s = await startServer({ env: { GATEHOUSE_BODY_MEMORY_MIB: '1' } });
  const { cookie } = await userWithSession(s);
  const image = png1x1([1, 2, 3, 255], { padTo: 700 * 1024 });
  const part = Buffer.concat([
    Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="thumbnail"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
    image, Buffer.from('\r\n--XyZ--\r\n'),
  ]);
  const request = patchRequest({ cookie, contentType: 'multipart/form-data; boundary=XyZ', body: part });
  // the first upload stops 20 bytes short of its end and holds its memory
  const held = net.connect({ port: s.port, host: '127.0.0.1' });
  let heldText = '';
  held.on('data', (d) => { heldText += d; });
  held.on('error', () => {});
  await new Promise((r) => held.on('connect', r));
  held.write(request.subarray(0, request.length - 20));
  await sleep(500);
  // (no half-close after the request: libmicrohttpd drops the answer of a suspended request
  // whose client shut down its sending side)
  const second = await raw(s, request, { end: false });
  const a = parseAnswer(second.text);
  assert.equal(a.status, 503, second.text.slice(0, 200));
  assert.equal(a.body.code, 'busy');
  assert.ok(a.headers['retry-after'], 'Retry-After on 503');
  held.write(request.subarray(request.length - 20));
  await new Promise((r) => held.on('close', r));
  assert.match(heldText, /^HTTP\/1\.1 200 /, 'the held upload completes once its body is in');
  const third = await raw(s, request, { end: false });
  assert.equal(parseAnswer(third.text).status, 200, 'memory is given back after each upload');
  await s.stop();
});

// ---------------------------------------------------------------- framing

test('conflicting or duplicated Content-Length, or Content-Length with Transfer-Encoding, gets 400', async () => {
  const s = await startServer();
  const { creds } = await userWithSession(s);
  const login = JSON.stringify({ email: creds.email, password: creds.password });
  const cases = [
    `Content-Length: ${login.length}\r\nContent-Length: 5\r\n`,
    `Content-Length: ${login.length}\r\nContent-Length: ${login.length}\r\n`,
    `Content-Length: ${login.length}\r\nTransfer-Encoding: chunked\r\n`,
    'Transfer-Encoding: gzip\r\n',
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n',
  ];
  for (const framing of cases) {
    const { text, closedByServer } = await raw(s, `POST /users/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${framing}\r\n${login}`);
    const a = parseAnswer(text);
    assert.equal(a.status, 400, `${JSON.stringify(framing)}: ${text.slice(0, 200)}`);
    assert.equal(a.body.code, 'bad_framing');
    assert.equal((text.match(/^HTTP\/1\.1 /gm) || []).length, 1, 'one answer, nothing read from the body');
    assert.ok(closedByServer, 'the connection is closed after such a request');
  }
  await assertNothingLost(s, creds);
  await s.stop();
});

test('requests the HTTP library refuses itself get one well-framed JSON answer each', async () => {
  // Content-Length: -1 and ~1000 cookies once got their status line and headers written twice
  const s = await startServer();
  const { creds } = await userWithSession(s);
  const login = JSON.stringify({ email: creds.email, password: creds.password });
  const post = (headers) => `POST /users/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}\r\n${login}`;
  const cases = [
    [post('Content-Length: -1\r\n'), 400, 'bad_framing'],
    [post('Transfer-Encoding: gzip\r\n'), 400, 'bad_framing'],
    [post(`Content-Length: ${login.length}\r\n${'Cookie: a=b\r\n'.repeat(1000)}`), 431, 'headers_too_large'],
    ['GET /users/current-user/ HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n', 505, 'http_version_not_supported'],
    ['GET /users/current-user/ HTTP/1.1\r\n\r\n', 400, 'bad_request'],
  ];
  for (const [request, status, code] of cases) {
    const { text, closedByServer } = await raw(s, request);
    const what = JSON.stringify(request.slice(0, 80));
    assert.equal((text.match(/^HTTP\/1\.1 /gm) || []).length, 1, `${what}: one status line: ${text.slice(0, 400)}`);
    const a = parseAnswer(text);
    assert.equal(a.status, status, `${what}: ${text.slice(0, 200)}`);
    assert.match(a.headers['content-type'], /^application\/json/, what);
    assert.equal(a.rest, '', `${what}: nothing follows the body its Content-Length gives`);
    assert.equal(a.body.code, code, what);
    assert.ok(closedByServer, `${what}: the connection is closed after the answer`);
  }
  await assertNothingLost(s, creds);
  await s.stop();
});

// ---------------------------------------------------------------- connections

/** Opens a raw connection from localAddress; resolves {sock, closed} once connected or refused. */
function open(server, localAddress) {
  return new Promise((resolve) => {
    const sock = net.connect({ port: server.port, host: '127.0.0.1', localAddress });
    const closed = new Promise((r) => sock.on('close', () => r(true)));
    sock.on('error', () => {});
    sock.once('connect', () => resolve({ sock, closed }));
    sock.once('error', () => resolve({ sock, closed }));
  });
}

/**
 * Session checks from 127.0.0.1, each on a new connection as a new visitor's would be, every
 * interval for ms; resolves {answered, total}.
 */
async function sessionChecks(server, cookie, ms, interval = 250) {
  let answered = 0;
  let total = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    total++;
    const { text } = await raw(server, 'GET /users/current-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Cookie: ${cookie}\r\nConnection: close\r\n\r\n`, { timeoutMs: 5000 });
    if (/^HTTP\/1\.1 200 /.test(text)) answered++;
    await sleep(interval);
  }
  return { answered, total };
}

test('one address cannot hold more than GATEHOUSE_MAX_CONNECTIONS_PER_IP connections', async () => {
  const s = await startServer({ env: { GATEHOUSE_MAX_CONNECTIONS_PER_IP: '5', GATEHOUSE_HEADER_TIMEOUT: '30' } });
  const { cookie } = await userWithSession(s);
  const held = [];
  for (let i = 0; i < 5; i++) held.push(await open(s, '127.0.0.2'));
  await sleep(300);
  const extra = await open(s, '127.0.0.2');
  const refused = await Promise.race([extra.closed, sleep(3000).then(() => false)]);
  assert.ok(refused, 'the sixth connection from 127.0.0.2 was closed by the server');
  for (const c of held) assert.ok(!c.sock.destroyed, 'the first five stay open');
  assert.equal((await currentUser(s, cookie)).first_name, 'Ada', '127.0.0.1 is served meanwhile');
  for (const c of held) c.sock.destroy();
  await sleep(300);
  const again = await raw(s, 'GET /health-check/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.2' });
  assert.match(again.text, /^HTTP\/1\.1 200 /, 'the address is served again once its connections closed');
  const metrics = await get(s, '/metrics');
  assert.match(metrics.text, /^gatehouse_connections_refused_total [1-9]\d*$/m, 'the refusal is counted');
  await s.stop();
});

test('a relaying frontend is not held to the per-address connection cap', async () => {
  const s = await startServer({ env: { GATEHOUSE_MAX_CONNECTIONS_PER_IP: '3', GATEHOUSE_RELAYING_FRONTENDS: '127.0.0.3', GATEHOUSE_HEADER_TIMEOUT: '30' } });
  const held = [];
  for (let i = 0; i < 10; i++) held.push(await open(s, '127.0.0.3'));
  await sleep(300);
  const { text } = await raw(s, 'GET /health-check/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.3' });
  assert.match(text, /^HTTP\/1\.1 200 /, 'the eleventh connection of the frontend is served');
  for (const c of held) assert.ok(!c.sock.destroyed, 'none of the frontend\'s connections was refused');
  for (const c of held) c.sock.destroy();
  await s.stop();
});

test('GATEHOUSE_MAX_CONNECTIONS_PER_IP must stay below GATEHOUSE_MAX_CONNECTIONS', async () => {
  await assert.rejects(
    startServer({ env: { GATEHOUSE_MAX_CONNECTIONS: '10', GATEHOUSE_MAX_CONNECTIONS_PER_IP: '10' } }),
    /GATEHOUSE_MAX_CONNECTIONS_PER_IP/,
  );
});

test('headers trickled a byte at a time are cut off at GATEHOUSE_HEADER_TIMEOUT', async () => {
  const s = await startServer({ env: { GATEHOUSE_HEADER_TIMEOUT: '2', GATEHOUSE_CONNECTION_TIMEOUT: '60' } });
  const { sock, closed } = await open(s, '127.0.0.2');
  const request = 'GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100);
  let i = 0;
  const trickle = setInterval(() => { if (!sock.destroyed) sock.write(request[i++ % request.length]); }, 300);
  const cut = await Promise.race([closed, sleep(10_000).then(() => false)]);
  clearInterval(trickle);
  assert.ok(cut, 'the server closed the trickling connection although bytes kept coming');
  const metrics = await get(s, '/metrics');
  assert.match(metrics.text, /^gatehouse_connections_timed_out_total [1-9]\d*$/m, 'the timeout is counted');
  await s.stop();
});

test('a body trickled a byte at a time is cut off at GATEHOUSE_BODY_TIMEOUT', async () => {
  const s = await startServer({ env: { GATEHOUSE_BODY_TIMEOUT: '2', GATEHOUSE_CONNECTION_TIMEOUT: '60' } });
  const { sock, closed } = await open(s, '127.0.0.2');
  sock.write('POST /users/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
  const trickle = setInterval(() => { if (!sock.destroyed) sock.write(' '); }, 300);
  const cut = await Promise.race([closed, sleep(10_000).then(() => false)]);
  clearInterval(trickle);
  assert.ok(cut, 'the server closed the connection whose body never finished');
  await s.stop();
});

test('a slow-header flood and an idle flood from one address leave session checks from another answered', async () => {
  // 400 flood connections against a limit of 200: without a per-address cap they take it all
  const s = await startServer({ env: { GATEHOUSE_HEADER_TIMEOUT: '3', GATEHOUSE_MAX_CONNECTIONS: '200' } });
  const { creds, cookie } = await userWithSession(s);
  for (const kind of ['slow', 'idle']) {
    const flood = [];
    let stop = false;
    const opener = (async () => {
      // keeps about 400 connections from 127.0.0.2 open, reopening what the server closes
      while (!stop) {
        while (!stop && flood.filter((c) => !c.sock.destroyed).length < 400) {
          const c = await open(s, '127.0.0.2');
          c.closed.then(() => c.sock.destroy());
          if (kind === 'slow') c.sock.write('GET /users/current-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\n');
          flood.push(c);
        }
        await sleep(100);
      }
    })();
    const trickle = setInterval(() => {
      if (kind === 'slow') for (const c of flood) if (!c.sock.destroyed) c.sock.write('X');
    }, 1000);
    await sleep(1000);
    const { answered, total } = await sessionChecks(s, cookie, 6000);
    stop = true;
    clearInterval(trickle);
    await opener;
    for (const c of flood) c.sock.destroy();
    assert.equal(answered, total, `${kind} flood: ${answered} of ${total} session checks answered`);
  }
  await assertNothingLost(s, creds);
  await s.stop();
});
