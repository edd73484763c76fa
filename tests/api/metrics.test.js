// GET /metrics: Prometheus text with requests by route and status, latency, logins, the hash
// queue and the outbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, get, post, registerAndConfirm, register, randomEmail, PASSWORD, expectError,
} from '../support/server.js';

let server;
before(async () => { server = await startServer(); });
after(cleanup);

/** The value of one sample line, 0 when absent. */
function sample(text, name, labels = '') {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const metrics = async () => {
  const r = await get(server, '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return r.text;
};

test('requests are counted by route pattern, method and status', async () => {
  const before = await metrics();
  const key = '{route="/users/login",method="POST",status="401"}';
  for (let i = 0; i < 3; i++) {
    expectError(await post(server, '/users/login/', { email: randomEmail(), password: PASSWORD }), 401);
  }
  await get(server, '/no/such/page');
  const after = await metrics();
  assert.equal(sample(after, 'gatehouse_http_requests_total', key) - sample(before, 'gatehouse_http_requests_total', key), 3);
  assert.ok(sample(after, 'gatehouse_http_requests_total', '{route="unmatched",method="",status="404"}') >= 1);
  assert.ok(!after.includes('/no/such/page'), 'unknown paths do not become labels');
});

test('logins are counted by outcome', async () => {
  const creds = await registerAndConfirm(server);
  const before = await metrics();
  assert.equal((await post(server, '/users/login/', creds)).status, 200);
  expectError(await post(server, '/users/login/', { ...creds, password: 'not the password at all' }), 401);
  const after = await metrics();
  assert.equal(sample(after, 'gatehouse_logins_total', '{result="ok"}') - sample(before, 'gatehouse_logins_total', '{result="ok"}'), 1);
  assert.equal(sample(after, 'gatehouse_logins_total', '{result="failed"}') - sample(before, 'gatehouse_logins_total', '{result="failed"}'), 1);
});

test('the latency histogram is cumulative and counts every request', async () => {
  const text = await metrics();
  const buckets = text.split('\n').filter((l) => l.startsWith('gatehouse_http_request_duration_seconds_bucket'))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  assert.ok(buckets.length >= 5);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1], 'cumulative');
  assert.equal(buckets[buckets.length - 1], sample(text, 'gatehouse_http_request_duration_seconds_count'));
  assert.ok(buckets[buckets.length - 1] > 0);
});

test('the hash queue and the mail outbox are reported', async () => {
  const text = await metrics();
  assert.match(text, /^gatehouse_hash_queue_depth \d+$/m);
  assert.match(text, /^gatehouse_mail_outbox_pending \d+$/m);
  // A mail that cannot be sent stays pending and shows up.
  const s = await startServer({ env: { GATEHOUSE_MAIL_URL: 'smtp://127.0.0.1:1', GATEHOUSE_MAIL_RETRY_SECONDS: '60' } });
  await register(s);
  const r = await get(s, '/metrics');
  assert.equal(sample(r.text, 'gatehouse_mail_outbox_pending'), 1);
  await s.stop();
});

test('wrong methods on /metrics answer 405', async () => {
  expectError(await post(server, '/metrics', {}), 405, 'method_not_allowed');
});
