// PATCH /users/update-user/: the profile fields of a multipart (or urlencoded) form, each
// validated before anything is stored, absent parts keeping their values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, request, expectError, assertJsonContentType, registerAndConfirm, loginOk,
  assertNothingLost, updateUser, currentUser, assertUserShape, sql, sqlQuote,
} from '../support/server.js';

let server;
let user; // an account that must keep working whatever we throw at the server

before(async () => {
  server = await startServer();
  user = await registerAndConfirm(server);
});
after(cleanup);

/** A fresh confirmed account with a session: {email, password, cookie}. */
async function freshSession() {
  const creds = await registerAndConfirm(server);
  return { ...creds, cookie: await loginOk(server, creds) };
}

/** PATCH and assert 200 with a user object; resolves with it. */
async function updateOk(cookie, fields) {
  const r = await updateUser(server, cookie, fields);
  assert.equal(r.status, 200, `update-user ${JSON.stringify(fields)}: ${r.status} ${r.text}`);
  assertJsonContentType(r);
  return r.body;
}

/** UTC date `days` from today as YYYY-MM-DD. */
function utcDate(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

test('update-user without a session answers 401 not_authenticated', async () => {
  expectError(await updateUser(server, undefined, { first_name: 'Grace' }), 401, 'not_authenticated');
  expectError(await updateUser(server, 'sessionid=garbage', { first_name: 'Grace' }), 401, 'not_authenticated');
});

test('the user object after an update matches the shape of SPEC §2.1', async () => {
  const { email, cookie } = await freshSession();
  const u = await updateOk(cookie, {
    first_name: 'Grace', last_name: 'Hopper', phone_number: '+12345678', birth_date: '1990-02-28', github_link: 'https://github.com/ada',
  });
  assertUserShape(u, email);
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.last_name, 'Hopper');
  assert.equal(u.is_active, true);
  assert.equal(u.thumbnail, null);
  assert.deepEqual(
    { phone_number: u.profile.phone_number, birth_date: u.profile.birth_date, github_link: u.profile.github_link },
    { phone_number: '+12345678', birth_date: '1990-02-28', github_link: 'https://github.com/ada' },
  );
  assert.deepEqual(await currentUser(server, cookie), u, 'current-user shows the stored update');
});

test('update-user answers with no-store caching', async () => {
  const { cookie } = await freshSession();
  const r = await updateUser(server, cookie, { first_name: 'Grace' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('cache-control') || '', /no-store/);
});

test('a partial update keeps every other field', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { first_name: 'Grace', last_name: 'Hopper', phone_number: '+12345678', birth_date: '1990-02-28', github_link: 'https://github.com/ada' });
  const before = await currentUser(server, cookie);
  const u = await updateOk(cookie, { last_name: 'Brewster' });
  assert.deepEqual(u, { ...before, last_name: 'Brewster' });
  const v = await updateOk(cookie, { phone_number: '+19876543210' });
  assert.deepEqual(v, { ...before, last_name: 'Brewster', profile: { ...before.profile, phone_number: '+19876543210' } });
});

test('an empty form changes nothing and answers the user object', async () => {
  const { cookie } = await freshSession();
  const before = await currentUser(server, cookie);
  assert.deepEqual(await updateOk(cookie, {}), before);
});

test('names are trimmed and replaced', async () => {
  const { cookie } = await freshSession();
  const u = await updateOk(cookie, { first_name: '  Grace  ', last_name: '\tHopper ' });
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.last_name, 'Hopper');
});

test('an empty name is ignored, not stored', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { first_name: 'Grace', last_name: 'Hopper' });
  const u = await updateOk(cookie, { first_name: '', last_name: '' });
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.last_name, 'Hopper');
});

test('a name that is empty after trimming is ignored, like an empty one', async () => {
  // docs/api.md: "replaced when present and non-empty after trimming ... An empty value is ignored."
  const { cookie } = await freshSession();
  await updateOk(cookie, { first_name: 'Grace', last_name: 'Hopper' });
  const u = await updateOk(cookie, { first_name: ' \t ', last_name: '   ' });
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.last_name, 'Hopper');
});

test('a name of 150 characters is accepted, 151 is refused with 400 naming the field', async () => {
  const { cookie } = await freshSession();
  assert.equal((await updateOk(cookie, { first_name: 'g'.repeat(150) })).first_name, 'g'.repeat(150));
  const r = await updateUser(server, cookie, { first_name: 'x'.repeat(151) });
  expectError(r, 400, 'invalid_first_name', 'first_name');
  assert.ok(r.body.error.includes('first_name') || /first name/i.test(r.body.error), `error names the field: ${r.body.error}`);
  expectError(await updateUser(server, cookie, { last_name: 'x'.repeat(151) }), 400, 'invalid_last_name', 'last_name');
  assert.equal((await currentUser(server, cookie)).first_name, 'g'.repeat(150));
});

test('names are counted in characters, not bytes', async () => {
  const { cookie } = await freshSession();
  const name = 'é'.repeat(150); // 300 bytes
  assert.equal((await updateOk(cookie, { first_name: name })).first_name, name);
});

for (const phone of ['+12345678', '+123456789012345678']) {
  test(`phone number ${phone} is accepted`, async () => {
    const { cookie } = await freshSession();
    assert.equal((await updateOk(cookie, { phone_number: phone })).profile.phone_number, phone);
  });
}

for (const phone of ['12345678', '+1234567', '+1234567890123456789', '+12 345 678', '+1234abcd', 'phone', '+', '++12345678', '+12345678\n']) {
  test(`phone number ${JSON.stringify(phone)} is refused with 400 invalid_phone_number`, async () => {
    const { cookie } = await freshSession();
    await updateOk(cookie, { phone_number: '+12345678' });
    expectError(await updateUser(server, cookie, { phone_number: phone }), 400, 'invalid_phone_number', 'phone_number');
    assert.equal((await currentUser(server, cookie)).profile.phone_number, '+12345678');
  });
}

test('an empty phone number clears it to null', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { phone_number: '+12345678' });
  assert.equal((await updateOk(cookie, { phone_number: '' })).profile.phone_number, null);
  assert.equal((await currentUser(server, cookie)).profile.phone_number, null);
});

for (const date of ['1990-02-28', '2000-02-29', '1900-01-01']) {
  test(`birth date ${date} is accepted`, async () => {
    const { cookie } = await freshSession();
    assert.equal((await updateOk(cookie, { birth_date: date })).profile.birth_date, date);
  });
}

test('a birth date of today is accepted', async () => {
  const today = utcDate(0);
  const { cookie } = await freshSession();
  const r = await updateUser(server, cookie, { birth_date: today });
  assert.equal(r.status, 200, r.text);
});

const badDates = ['1990-02-30', '1999-02-29', '1990-13-01', '1990-00-10', '1990-01-00', '1990-01-32', '90-01-01', '1990-1-01', '1990/01/01', '1990-01-01T00:00:00Z', '01-01-1990', 'yesterday', '1899-12-31'];
for (const date of badDates) {
  test(`birth date ${date} is refused with 400 invalid_birth_date`, async () => {
    const { cookie } = await freshSession();
    expectError(await updateUser(server, cookie, { birth_date: date }), 400, 'invalid_birth_date', 'birth_date');
    assert.equal((await currentUser(server, cookie)).profile.birth_date, null);
  });
}

test('a birth date in the future (tomorrow) is refused with 400 invalid_birth_date', async () => {
  const { cookie } = await freshSession();
  for (const date of [utcDate(1), utcDate(2), '2999-01-01']) {
    expectError(await updateUser(server, cookie, { birth_date: date }), 400, 'invalid_birth_date', 'birth_date');
  }
  assert.equal((await currentUser(server, cookie)).profile.birth_date, null);
});

test('an empty birth date clears it to null', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { birth_date: '1990-02-28' });
  assert.equal((await updateOk(cookie, { birth_date: '' })).profile.birth_date, null);
  assert.equal((await currentUser(server, cookie)).profile.birth_date, null);
});

for (const link of ['https://github.com/ada', 'https://example.com', `https://github.com/${'a'.repeat(255 - 'https://github.com/'.length)}`]) {
  test(`github link ${link.length > 60 ? `of ${link.length} characters` : link} is accepted`, async () => {
    const { cookie } = await freshSession();
    assert.equal((await updateOk(cookie, { github_link: link })).profile.github_link, link);
  });
}

const badLinks = {
  'http://github.com/x': 'http://github.com/x',
  'https://': 'https://',
  'javascript:alert(1)': 'javascript:alert(1)',
  'a 256-character https URL': `https://github.com/${'a'.repeat(256 - 'https://github.com/'.length)}`,
  'a URL with a space': 'https://github.com/ada lovelace',
  'a URL with a control character': 'https://github.com/ada\u0007',
  'a URL with a newline': 'https://github.com/ada\nX-Injected: 1',
  'a bare host': 'github.com/ada',
  'a protocol-relative URL': '//github.com/ada',
  'an ftp URL': 'ftp://github.com/ada',
  'a data URL': 'data:text/html,<script>alert(1)</script>',
};
for (const [what, link] of Object.entries(badLinks)) {
  test(`github link ${what} is refused with 400 invalid_github_link`, async () => {
    const { cookie } = await freshSession();
    expectError(await updateUser(server, cookie, { github_link: link }), 400, 'invalid_github_link', 'github_link');
    assert.equal((await currentUser(server, cookie)).profile.github_link, null);
  });
}

test('an empty github link clears it to null', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { github_link: 'https://github.com/ada' });
  assert.equal((await updateOk(cookie, { github_link: '' })).profile.github_link, null);
  assert.equal((await currentUser(server, cookie)).profile.github_link, null);
});

test('one bad field among good ones changes nothing', async () => {
  const { cookie } = await freshSession();
  await updateOk(cookie, { first_name: 'Grace', last_name: 'Hopper', phone_number: '+12345678', birth_date: '1990-02-28', github_link: 'https://github.com/ada' });
  const before = await currentUser(server, cookie);
  const good = { first_name: 'Ada', last_name: 'Byron', phone_number: '+19999999999', birth_date: '2000-02-29', github_link: 'https://github.com/byron' };
  const bad = {
    first_name: ['x'.repeat(151), 'invalid_first_name'],
    phone_number: ['12345678', 'invalid_phone_number'],
    birth_date: ['1990-02-30', 'invalid_birth_date'],
    github_link: ['http://github.com/x', 'invalid_github_link'],
  };
  for (const [field, [value, code]] of Object.entries(bad)) {
    expectError(await updateUser(server, cookie, { ...good, [field]: value }), 400, code, field);
    assert.deepEqual(await currentUser(server, cookie), before, `nothing changed after a bad ${field}`);
  }
  // the bad field last in the form, after the good ones were read
  expectError(await updateUser(server, cookie, { first_name: 'Ada', last_name: 'Byron', github_link: 'https://', }), 400, 'invalid_github_link');
  assert.deepEqual(await currentUser(server, cookie), before);
});

test('a text field over 4096 bytes is refused with 400 too_long', async () => {
  const { cookie } = await freshSession();
  const before = await currentUser(server, cookie);
  for (const field of ['first_name', 'phone_number', 'github_link']) {
    const r = await updateUser(server, cookie, { [field]: 'a'.repeat(5000) });
    expectError(r, 400, 'too_long', field);
  }
  assert.deepEqual(await currentUser(server, cookie), before);
  await assertNothingLost(server, user);
});

test('unknown fields are ignored, privileged ones included', async () => {
  const { cookie, email } = await freshSession();
  const u = await updateOk(cookie, { first_name: 'Grace', nickname: 'amazing', is_staff: 'true', is_superuser: '1', is_active: 'false', email: 'other@example.com', id: '00000000-0000-0000-0000-000000000000' });
  assert.equal(u.first_name, 'Grace');
  assert.equal(u.email, email);
  assert.equal(u.is_staff, false);
  assert.equal(u.is_superuser, false);
  assert.equal(u.is_active, true);
  assert.ok(!('nickname' in u));
  const row = sql(server.dataDir, `SELECT is_staff, is_superuser FROM users WHERE email = ${sqlQuote(email)}`)[0];
  assert.deepEqual(row, { is_staff: 0, is_superuser: 0 });
});

test('an application/x-www-form-urlencoded body is accepted', async () => {
  const { cookie } = await freshSession();
  const body = new URLSearchParams({ first_name: 'Grace', phone_number: '+12345678', github_link: 'https://github.com/ada?tab=repos&x=1' });
  const r = await request(server, 'PATCH', '/users/update-user/', { cookie, body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.first_name, 'Grace');
  assert.equal(r.body.profile.phone_number, '+12345678');
  assert.equal(r.body.profile.github_link, 'https://github.com/ada?tab=repos&x=1');
  const bad = await request(server, 'PATCH', '/users/update-user/', { cookie, body: new URLSearchParams({ phone_number: '123' }) });
  expectError(bad, 400, 'invalid_phone_number', 'phone_number');
});

test('a JSON body (or any other content type) is refused with 415 unsupported_media_type', async () => {
  const { cookie } = await freshSession();
  const before = await currentUser(server, cookie);
  const json = await request(server, 'PATCH', '/users/update-user/', { cookie, json: { first_name: 'Mallory' } });
  expectError(json, 415, 'unsupported_media_type');
  for (const ct of ['text/plain', 'application/octet-stream']) {
    const r = await request(server, 'PATCH', '/users/update-user/', { cookie, body: 'first_name=Mallory', headers: { 'content-type': ct } });
    expectError(r, 415, 'unsupported_media_type');
  }
  assert.deepEqual(await currentUser(server, cookie), before);
});

test('a malformed multipart body is refused with 400 and the server stays up', async () => {
  const { cookie } = await freshSession();
  const before = await currentUser(server, cookie);
  const cases = [
    ['multipart/form-data', '--x\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nMallory\r\n--x--\r\n'], // no boundary parameter
    ['multipart/form-data; boundary=x', 'not a multipart body at all'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nMallory'], // never closed
    ['multipart/form-data; boundary=x', '--x\r\nno headers here\r\n\r\nMallory\r\n--x--\r\n'],
  ];
  for (const [ct, body] of cases) {
    const r = await request(server, 'PATCH', '/users/update-user/', { cookie, body, headers: { 'content-type': ct } });
    expectError(r, [400, 415]);
  }
  assert.deepEqual(await currentUser(server, cookie), before);
  await assertNothingLost(server, user);
});

test('a cross-site Origin is refused with 403 bad_origin and changes nothing', async () => {
  const { cookie } = await freshSession();
  const before = await currentUser(server, cookie);
  const r = await updateUser(server, cookie, { first_name: 'Mallory' }, { headers: { origin: 'http://evil.example' } });
  expectError(r, 403, 'bad_origin');
  assert.deepEqual(await currentUser(server, cookie), before);
  const ok = await updateUser(server, cookie, { first_name: 'Grace' }, { headers: { origin: server.url } });
  assert.equal(ok.status, 200, ok.text);
});

test('a wrong method (POST) answers 405 with Allow: PATCH', async () => {
  const { cookie } = await freshSession();
  const form = new FormData();
  form.append('first_name', 'Mallory');
  const r = await request(server, 'POST', '/users/update-user/', { cookie, body: form });
  expectError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow') || '', /\bPATCH\b/);
  const g = await request(server, 'GET', '/users/update-user/', { cookie });
  expectError(g, 405, 'method_not_allowed');
  assert.match(g.headers.get('allow') || '', /\bPATCH\b/);
  assert.notEqual((await currentUser(server, cookie)).first_name, 'Mallory');
});

test('update-user without trailing slash is served identically', async () => {
  const { cookie } = await freshSession();
  const form = new FormData();
  form.append('first_name', 'Grace');
  const r = await request(server, 'PATCH', '/users/update-user', { cookie, body: form });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.first_name, 'Grace');
});

test('an update is seen by another session of the same user', async () => {
  const { cookie, email, password } = await freshSession();
  const other = await loginOk(server, { email, password });
  await updateOk(cookie, { first_name: 'Grace' });
  assert.equal((await currentUser(server, other)).first_name, 'Grace');
});

test('an update changes only the caller\'s account', async () => {
  const a = await freshSession();
  const b = await freshSession();
  const bBefore = await currentUser(server, b.cookie);
  await updateOk(a.cookie, { first_name: 'Grace', phone_number: '+12345678' });
  assert.deepEqual(await currentUser(server, b.cookie), bBefore);
});

test('the profile update is audited', async () => {
  const { cookie, email } = await freshSession();
  await updateOk(cookie, { first_name: 'Grace' });
  const id = sql(server.dataDir, `SELECT id FROM users WHERE email = ${sqlQuote(email)}`)[0].id;
  const rows = sql(server.dataDir, `SELECT * FROM audit_log WHERE event = 'profile_update' AND user_id = ${sqlQuote(id)}`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].ip, '127.0.0.1');
});

test('after all the bad input the server still answers and the user still logs in', async () => {
  await assertNothingLost(server, user);
});
