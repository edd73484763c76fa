// HTTP conventions: health-check, 404/405, trailing slashes, and bad input on every POST
// route — each answered with a JSON error, after which nothing is lost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, request, get, post, expectError, expectMessage, assertJsonContentType,
  registerAndConfirm, assertNothingLost, randomEmail, registration, PASSWORD,
} from '../support/server.js';

let server;
let user; // a confirmed account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

const postJson = (path, text, headers = {}) =>
  request(server, 'POST', path, { body: text, headers: { 'content-type': 'application/json', ...headers } });

// The JSON routes with a body, and a valid body for each.
const routes = {
  '/users/register/': () => registration(randomEmail()),
  '/users/login/': () => ({ email: randomEmail(), password: PASSWORD }),
  '/users/regenerate-token/': () => ({ email: randomEmail() }),
};

test('health-check answers 200 {"message": "ok"} as JSON', async () => {
  const r = await get(server, '/health-check/');
  assert.equal(r.status, 200);
  assertJsonContentType(r);
  assert.deepEqual(r.body, { message: 'ok' });
});

test('health-check without trailing slash is served identically', async () => {
  const r = await get(server, '/health-check');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'ok' });
});

test('login without trailing slash behaves like login with it', async () => {
  const a = await post(server, '/users/login', { email: user.email, password: PASSWORD });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.email, user.email);
  const b = await post(server, '/users/login', { email: user.email, password: 'wrong password but long' });
  const c = await post(server, '/users/login/', { email: user.email, password: 'wrong password but long' });
  expectError(b, 401, 'invalid_credentials');
  assert.equal(b.text, c.text);
});

test('register without trailing slash behaves like register with it', async () => {
  const r = await post(server, '/users/register', registration(randomEmail()));
  expectMessage(r, 201);
});

test('unknown path answers 404 JSON', async () => {
  for (const path of ['/nope/', '/definitely-not-here', '/users/', '/users/login/extra/', '/health-check/x']) {
    const r = await get(server, path);
    expectError(r, 404, 'not_found');
  }
  const p = await post(server, '/users/nope/', { a: 1 });
  expectError(p, 404, 'not_found');
});

test('GET on the login route answers 405 with an Allow header naming POST', async () => {
  const r = await get(server, '/users/login/');
  expectError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow') || '', /\bPOST\b/);
});

test('DELETE on health-check answers 405 with an Allow header naming GET', async () => {
  const r = await request(server, 'DELETE', '/health-check/');
  expectError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow') || '', /\bGET\b/);
});

test('wrong methods on the other routes answer 405 with Allow', async () => {
  const cases = [
    ['GET', '/users/register/', 'POST'],
    ['PUT', '/users/register/', 'POST'],
    ['GET', '/users/regenerate-token/', 'POST'],
    ['GET', '/users/logout/', 'POST'],
    ['POST', '/users/current-user/', 'GET'],
    ['POST', '/users/register/confirm/', 'GET'],
    ['POST', '/health-check/', 'GET'],
    ['GET', '/users/login', 'POST'],
  ];
  for (const [method, path, allow] of cases) {
    const r = await request(server, method, path, method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } });
    expectError(r, 405, 'method_not_allowed');
    assert.match(r.headers.get('allow') || '', new RegExp(`\\b${allow}\\b`), `${method} ${path}: Allow ${r.headers.get('allow')}`);
  }
  await assertNothingLost(server, user);
});

for (const path of Object.keys(routes)) {
  test(`${path} rejects malformed JSON with 400 invalid_json`, async () => {
    for (const text of ['{', '{"email": ', '{"email": "a@b.c",}', 'not json', '\u0000', '', '{"email": "a@b.c"} trailing']) {
      const r = await postJson(path, text);
      expectError(r, 400, 'invalid_json');
    }
    await assertNothingLost(server, user);
  });

  test(`${path} rejects JSON that is not an object with 400 invalid_json`, async () => {
    for (const text of ['[]', JSON.stringify([routes[path]()]), '"a string"', '42', 'null', 'true']) {
      const r = await postJson(path, text);
      expectError(r, 400, 'invalid_json');
    }
    await assertNothingLost(server, user);
  });

  test(`${path} rejects a non-JSON Content-Type with 415`, async () => {
    const body = JSON.stringify(routes[path]());
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await request(server, 'POST', path, { body, headers: { 'content-type': ct } });
      expectError(r, 415, 'unsupported_media_type');
    }
    // no Content-Type at all
    const r = await request(server, 'POST', path, { body: new TextEncoder().encode(body) });
    expectError(r, 415, 'unsupported_media_type');
    await assertNothingLost(server, user);
  });

  test(`${path} accepts application/json with a charset parameter`, async () => {
    const r = await postJson(path, JSON.stringify(routes[path]()), { 'content-type': 'application/json; charset=utf-8' });
    assert.ok(r.status < 500 && r.status !== 415 && r.status !== 400, `${r.status} ${r.text}`);
  });

  test(`${path} names each missing field with 400 missing_field`, async () => {
    const valid = routes[path]();
    for (const field of Object.keys(valid)) {
      const body = { ...valid };
      delete body[field];
      const r = await post(server, path, body);
      expectError(r, 400, 'missing_field', field);
      assert.ok(r.body.error.includes(field), `error should name ${field}: ${r.body.error}`);
    }
    const r = await post(server, path, {});
    expectError(r, 400, 'missing_field');
    assert.ok(Object.keys(valid).includes(r.body.field), `field ${r.body.field}`);
    await assertNothingLost(server, user);
  });

  test(`${path} rejects an unknown field with 400 unknown_field`, async () => {
    const r = await post(server, path, { ...routes[path](), is_superuser: true });
    expectError(r, 400, 'unknown_field', 'is_superuser');
    assert.ok(r.body.error.includes('is_superuser'), r.body.error);
    await assertNothingLost(server, user);
  });

  test(`${path} rejects fields of the wrong JSON type with 400 wrong_type`, async () => {
    const valid = routes[path]();
    for (const field of Object.keys(valid)) {
      for (const bad of [42, 0, true, false, ['x'], { a: 'b' }]) {
        const r = await post(server, path, { ...valid, [field]: bad });
        expectError(r, 400, 'wrong_type', field);
        assert.ok(r.body.error.includes(field), `error should name ${field}: ${r.body.error}`);
      }
    }
    await assertNothingLost(server, user);
  });

  test(`${path} refuses a null field with a 400 naming the field`, async () => {
    const valid = routes[path]();
    for (const field of Object.keys(valid)) {
      const r = await post(server, path, { ...valid, [field]: null });
      // docs/api.md does not say whether null is "missing" or "of the wrong type"
      expectError(r, 400, ['wrong_type', 'missing_field'], field);
      assert.ok(r.body.error.includes(field), `error should name ${field}: ${r.body.error}`);
    }
  });

  test(`${path} rejects a 10,000-character email with 400`, async () => {
    const r = await post(server, path, { ...routes[path](), email: 'a'.repeat(9988) + '@example.com' });
    expectError(r, 400, ['too_long', 'invalid_email'], 'email');
    await assertNothingLost(server, user);
  });

  test(`${path} rejects a body over 64 KiB with 413 body_too_large`, async () => {
    const big = { ...routes[path](), email: 'a'.repeat(70 * 1024) + '@example.com' };
    const r = await post(server, path, big);
    expectError(r, 413, 'body_too_large');
    const r2 = await postJson(path, ' '.repeat(65 * 1024) + JSON.stringify(routes[path]()));
    expectError(r2, 413, 'body_too_large');
    await assertNothingLost(server, user);
  });
}

test('invalid UTF-8 and deeply nested JSON are refused with 400 invalid_json', async () => {
  for (const path of Object.keys(routes)) {
    const bad = Buffer.concat([Buffer.from('{"email": "a'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('@example.com"}')]);
    expectError(await request(server, 'POST', path, { body: bad, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expectError(await postJson(path, '['.repeat(30000) + ']'.repeat(30000)), 400, 'invalid_json');
    expectError(await postJson(path, '{"a":'.repeat(10000) + '1' + '}'.repeat(10000)), 400);
  }
  await assertNothingLost(server, user);
});

test('security headers are on every answer, errors included', async () => {
  const answers = [
    await get(server, '/health-check/'),
    await get(server, '/nope/'),
    await get(server, '/users/login/'),
    await postJson('/users/login/', '{'),
    await get(server, '/users/current-user/'),
    await get(server, '/users/register/confirm/?token=x'),
  ];
  for (const r of answers) {
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${r.status} ${r.res.url}`);
    assert.ok(r.headers.get('referrer-policy'), `Referrer-Policy on ${r.status} ${r.res.url}`);
  }
});

test('a body of exactly 64 KiB is not refused as too large', async () => {
  const valid = { email: user.email, password: PASSWORD };
  const json = JSON.stringify(valid);
  const r = await postJson('/users/login/', ' '.repeat(64 * 1024 - json.length) + json);
  assert.notEqual(r.status, 413, r.text);
  assert.equal(r.status, 200, r.text);
});

test('a very long password is refused on register and at login without harm', async () => {
  const r = await post(server, '/users/login/', { email: user.email, password: 'x'.repeat(10_000) });
  assert.ok([400, 401].includes(r.status), `${r.status} ${r.text}`);
  expectError(r, r.status);
  await assertNothingLost(server, user);
});

test('logout ignores its body, even a malformed one', async () => {
  const r = await postJson('/users/logout/', '{not json');
  expectError(r, 401, 'not_authenticated');
});

test('after all the bad input the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
