// POST /users/register/: the account, the email rules and the password policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startServer, cleanup, post, expectError, expectMessage, sql, sqlQuote, randomEmail,
  registration, register, login, loginOk, registerAndConfirm, confirmationLink, openLink, PASSWORD,
  tokenOf, waitUntil, storageDump,
} from '../support/server.js';

let server;
before(async () => { server = await startServer(); });
after(cleanup);

const reg = (body) => post(server, '/users/register/', body);
const userRow = (email) => sql(server.dataDir, `SELECT * FROM users WHERE email = ${sqlQuote(email)}`)[0];

test('register answers 201 with a message and creates an inactive account', async () => {
  const email = randomEmail();
  const r = await reg(registration(email));
  expectMessage(r, 201);
  const row = userRow(email);
  assert.ok(row, 'user row exists');
  assert.equal(row.is_active, 0);
  assert.equal(row.is_staff, 0);
  assert.equal(row.is_superuser, 0);
  assert.equal(row.first_name, 'Ada');
  assert.equal(row.last_name, 'Lovelace');
  assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(typeof row.date_joined, 'number');
  assert.ok(Math.abs(row.date_joined - Date.now() / 1000) < 300, `date_joined ${row.date_joined} is unix seconds of now`);
});

test('register stores an Argon2id hash with the default parameters, never the password', async () => {
  const email = randomEmail();
  await register(server, { email });
  const row = userRow(email);
  assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(!row.password_hash.includes(PASSWORD));
});

test('register queues a confirmation mail in the outbox', async () => {
  const email = randomEmail();
  await register(server, { email });
  const rows = sql(server.dataDir, `SELECT * FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`);
  assert.equal(rows.length, 1);
  assert.match(await confirmationLink(server, email), /\/users\/register\/confirm\/\?token=/);
});

test('a sent mail keeps no body in the outbox, so a database dump holds no live link', async () => {
  const email = randomEmail();
  await register(server, { email });
  const token = tokenOf(await confirmationLink(server, email));
  await waitUntil(() => sql(server.dataDir, `SELECT sent_at FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0].sent_at !== null,
    { what: 'mail marked sent' });
  const row = sql(server.dataDir, `SELECT * FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0];
  assert.equal(row.text_body, '');
  assert.equal(row.html_body, '');
  assert.ok(!storageDump(server.dataDir).includes(token), 'the token is nowhere in the database');
});

test('register creates the empty profile', async () => {
  const email = randomEmail();
  await register(server, { email });
  const rows = sql(server.dataDir, `SELECT p.* FROM user_profiles p JOIN users u ON u.id = p.user_id WHERE u.email = ${sqlQuote(email)}`);
  assert.equal(rows.length, 1);
});

test('a new account cannot log in before it is confirmed', async () => {
  const { email } = await register(server);
  const { r } = await login(server, { email, password: PASSWORD });
  expectError(r, 403, 'inactive');
});

test('register rejects syntactically bad emails with 400 invalid_email', async () => {
  const bad = ['', ' ', 'plainaddress', 'a@', '@example.com', 'a b@example.com', 'a@@example.com',
    'a@example..com', 'a@exa mple.com', 'a@.example.com', 'a\n@example.com',
    '<a@example.com>', 'a@example.com, b@example.com'];
  for (const email of bad) {
    const r = await reg(registration(email));
    expectError(r, 400, 'invalid_email', 'email');
  }
});

/** An address of exactly n characters (local part <= 64, labels <= 63). */
function emailOfLength(n) {
  const local = 'u' + randomBytes(4).toString('hex');
  let rest = n - local.length - 1 - 'example.com'.length;
  const labels = [];
  while (rest > 0) {
    const len = Math.min(63, rest - 1);
    labels.push('a'.repeat(len));
    rest -= len + 1;
  }
  return `${local}@${[...labels, 'example.com'].join('.')}`;
}

test('register rejects an email of 255 characters and accepts one of 254', async () => {
  const e254 = emailOfLength(254);
  assert.equal(e254.length, 254);
  expectMessage(await reg(registration(e254)), 201);
  const e255 = emailOfLength(255);
  assert.equal(e255.length, 255);
  const r = await reg(registration(e255));
  expectError(r, 400, ['invalid_email', 'too_long'], 'email');
});

test('registering a taken address answers 201 like a new one and changes nothing', async () => {
  const { email } = await register(server);
  const before = userRow(email);
  const r = await reg(registration(email, 'a different passphrase 99', { first_name: 'Mallory' }));
  expectMessage(r, 201);
  assert.equal(r.text, (await reg(registration(randomEmail()))).text, 'the same body as for a new address');
  assert.deepEqual(userRow(email), before, 'the account is untouched');
});

test('register treats an email with different case as taken', async () => {
  const { email } = await register(server);
  expectMessage(await reg(registration(email.toUpperCase())), 201);
  expectMessage(await reg(registration(email.replace(/^u/, 'U').replace('example', 'ExAmple'))), 201);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM users WHERE lower(email) = ${sqlQuote(email)}`)[0].n, 1);
});

test('concurrent registrations of one email: one account, every answer the same 201', async () => {
  for (let round = 0; round < 5; round++) {
    const email = randomEmail();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      reg(registration(i % 2 ? email : email.toUpperCase()))));
    for (const r of answers) expectMessage(r, 201);
    assert.equal(new Set(answers.map((r) => r.text)).size, 1);
    assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM users WHERE email = ${sqlQuote(email)}`)[0].n, 1);
  }
});

test('register trims and lower-cases the email', async () => {
  const email = randomEmail();
  const r = await reg(registration(`  ${email.toUpperCase()}\t `));
  expectMessage(r, 201);
  const row = userRow(email);
  assert.ok(row, `stored as ${email}`);
  expectMessage(await reg(registration(email)), 201);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM users WHERE email = ${sqlQuote(email)}`)[0].n, 1);
});

// ---- GATEHOUSE_REGISTER_REVEALS_EXISTING=true: a taken address answers 409, as it once did

test('with GATEHOUSE_REGISTER_REVEALS_EXISTING a taken address, in any case, answers 409 email_taken', async () => {
  const s = await startServer({ env: { GATEHOUSE_REGISTER_REVEALS_EXISTING: 'true' } });
  const { email } = await register(s);
  expectError(await post(s, '/users/register/', registration(email)), 409, 'email_taken', 'email');
  expectError(await post(s, '/users/register/', registration(email.toUpperCase())), 409, 'email_taken', 'email');
  expectError(await post(s, '/users/register/', registration(`  ${email} `)), 409, 'email_taken');
  await s.stop();
});

test('with GATEHOUSE_REGISTER_REVEALS_EXISTING concurrent registrations of one email: exactly one wins, the others get 409', async () => {
  const s = await startServer({ env: { GATEHOUSE_REGISTER_REVEALS_EXISTING: 'true' } });
  for (let round = 0; round < 3; round++) {
    const email = randomEmail();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      post(s, '/users/register/', registration(i % 2 ? email : email.toUpperCase()))));
    const statuses = answers.map((r) => r.status);
    assert.equal(answers.filter((r) => r.status === 201).length, 1, `statuses: ${statuses}`);
    for (const r of answers) if (r.status !== 201) expectError(r, 409, 'email_taken');
    assert.equal(sql(s.dataDir, `SELECT count(*) AS n FROM users WHERE email = ${sqlQuote(email)}`)[0].n, 1);
    assert.equal(sql(s.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0].n, 1);
  }
  await s.stop();
});

test('an account registered with a padded upper-case email confirms and logs in with the plain email', async () => {
  const email = randomEmail();
  expectMessage(await reg(registration(`  ${email.toUpperCase()} `)), 201);
  const link = await confirmationLink(server, email);
  const c = await openLink(server, link);
  assert.equal(c.status, 303);
  assert.match(c.headers.get('location'), /\/auth\/confirmed$/);
  await loginOk(server, { email, password: PASSWORD });
  await loginOk(server, { email: email.toUpperCase(), password: PASSWORD });
});

test('register accepts a 12-character password and rejects 11 with password_too_short', async () => {
  const r11 = await reg(registration(randomEmail(), 'vq8!mzr-kp3'));
  expectError(r11, 400, 'password_too_short', 'password');
  const r12 = await reg(registration(randomEmail(), 'vq8!mzr-kp3w'));
  expectMessage(r12, 201);
});

test('password length counts Unicode code points, not bytes', async () => {
  // 11 code points, 22+ bytes: too short
  const short = 'ÿéèçàùñöäüß';
  assert.equal([...short].length, 11);
  expectError(await reg(registration(randomEmail(), short)), 400, 'password_too_short', 'password');
  // 12 code points of 4-byte characters: long enough
  const emoji = '🦊🐢🦉🐙🦀🐝🦋🐌🦔🐳🦜🐍';
  assert.equal([...emoji].length, 12);
  expectMessage(await reg(registration(randomEmail(), emoji)), 201);
  // 128 code points of two-byte characters (256 bytes): accepted
  const long128 = 'é'.repeat(64) + 'ü'.repeat(64);
  expectMessage(await reg(registration(randomEmail(), long128)), 201);
});

test('register accepts a 128-character password and rejects 129 with password_too_long', async () => {
  const base = randomBytes(96).toString('base64url');
  const p128 = base.slice(0, 128);
  assert.equal(p128.length, 128);
  const email = randomEmail();
  expectMessage(await reg(registration(email, p128)), 201);
  const p129 = (base + 'xyz').slice(0, 129);
  assert.equal(p129.length, 129);
  expectError(await reg(registration(randomEmail(), p129)), 400, 'password_too_long', 'password');
});

test('a 128-character password works in full at login (never truncated)', async () => {
  const p = randomBytes(96).toString('base64url').slice(0, 128);
  const { email } = await registerAndConfirm(server, { password: p });
  await loginOk(server, { email, password: p });
  const { r } = await login(server, { email, password: p.slice(0, 127) + (p[127] === 'x' ? 'y' : 'x') });
  expectError(r, 401, 'invalid_credentials');
  const { r: r2 } = await login(server, { email, password: p.slice(0, 72) });
  expectError(r2, 401, 'invalid_credentials');
});

for (const common of ['password1234', 'passwordpassword', 'qwertyuiop123', '1234567890qwerty', '123456789012']) {
  test(`register rejects the common password ${JSON.stringify(common)} with password_common`, async () => {
    const r = await reg(registration(randomEmail(), common));
    expectError(r, 400, 'password_common', 'password');
  });
}

test('register rejects a password containing the email local part, in any case', async () => {
  const local = 'jdoe' + randomBytes(3).toString('hex');
  const email = `${local}@example.com`;
  for (const password of [`my name is ${local.toUpperCase()} ok`, `${local}-long-enough`, `xx${local}xx-${local}`]) {
    const r = await reg(registration(email, password));
    expectError(r, 400, 'password_contains_email', 'password');
  }
  const r = await reg(registration(email, 'an entirely unrelated passphrase'));
  expectMessage(r, 201);
});

test('register rejects a password equal to the whole email', async () => {
  const email = `mailbox${randomBytes(3).toString('hex')}@example.com`;
  const r = await reg(registration(email, email));
  expectError(r, 400, 'password_contains_email', 'password');
});

for (const field of ['first_name', 'last_name']) {
  test(`register rejects an empty or blank ${field} with invalid_${field}`, async () => {
    for (const value of ['', '   ', '\t']) {
      const r = await reg(registration(randomEmail(), PASSWORD, { [field]: value }));
      expectError(r, 400, `invalid_${field}`, field);
    }
  });

  test(`register accepts a ${field} of 150 characters and rejects 151 with invalid_${field}`, async () => {
    expectMessage(await reg(registration(randomEmail(), PASSWORD, { [field]: 'x'.repeat(150) })), 201);
    expectMessage(await reg(registration(randomEmail(), PASSWORD, { [field]: 'é'.repeat(150) })), 201);
    const r = await reg(registration(randomEmail(), PASSWORD, { [field]: 'x'.repeat(151) }));
    expectError(r, 400, `invalid_${field}`, field);
  });
}

test('a failed registration creates no account and queues no mail', async () => {
  const email = randomEmail();
  const r = await reg(registration(email, 'short'));
  expectError(r, 400, 'password_too_short');
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM users WHERE email = ${sqlQuote(email)}`)[0].n, 0);
  assert.equal(sql(server.dataDir, `SELECT count(*) AS n FROM mail_outbox WHERE recipient = ${sqlQuote(email)}`)[0].n, 0);
});
