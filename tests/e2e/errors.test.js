// Every form shows the server's error sentence next to the field the server names, or at the
// top of the form when it names none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, randomEmail, register, registerAndConfirm, PASSWORD,
} from '../support/server.js';
import { launchBrowser, openPage, assertNoProblems, fieldError, formAlert, submit, tempFile, removeTempFiles } from './browser.js';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await cleanup();
  removeTempFiles();
});

/** The only error on the form is the server's sentence under `name`. */
async function assertOnlyFieldError(page, form, name, body) {
  assert.equal(body.field ?? name, name);
  const text = await fieldError(page, form, name);
  assert.ok(text.startsWith(body.error), `error under ${name}: ${JSON.stringify(text)}, expected ${JSON.stringify(body.error)}`);
  assert.equal(await page.getAttribute(`${form} [name="${name}"]`, 'aria-invalid'), 'true');
  assert.equal(await formAlert(page, form), '', 'nothing at the top of the form');
  const others = await page.locator(`${form} .field-error`).evaluateAll((els) => els.filter((e) => e.textContent).length);
  assert.equal(others, 1, 'exactly one field error');
}

async function logIn(page, email, password = PASSWORD) {
  await page.goto(`${server.url}/auth/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
}

test('register: a taken email looks like a new one by default; with GATEHOUSE_REGISTER_REVEALS_EXISTING the 409 links to login and reset', async () => {
  const { email: taken } = await registerAndConfirm(server, { email: randomEmail('taken') });
  let { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/register`);
  await page.fill('#first_name', 'Grace');
  await page.fill('#last_name', 'Hopper');
  await page.fill('#email', taken);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/auth\/confirming\?email=/), page.click('#register-form button[type="submit"]')]);
  assertNoProblems(page);
  await context.close();

  const revealing = await startServer({ env: { GATEHOUSE_REGISTER_REVEALS_EXISTING: 'true' } });
  const { email: known } = await registerAndConfirm(revealing, { email: randomEmail('taken') });
  ({ context, page } = await openPage(browser));
  await page.goto(`${revealing.url}/auth/register`);
  await page.fill('#first_name', 'Grace');
  await page.fill('#last_name', 'Hopper');
  await page.fill('#email', known);
  await page.fill('#password', PASSWORD);
  const r = await submit(page, '#register-form', '/users/register/');
  assert.equal(r.status, 409);
  assert.equal(r.body.code, 'email_taken');
  await assertOnlyFieldError(page, '#register-form', 'email', r.body);
  assert.equal(await page.locator('#email-error a[href="/auth/login"]').count(), 1);
  assert.equal(await page.locator('#email-error a[href="/auth/password/request-change"]').count(), 1);
  assertNoProblems(page);
  await context.close();
  await revealing.stop();
});

test('register: common password, short password, empty fields', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/register`);

  // Nothing filled in: the page says so without asking the server.
  let requests = 0;
  page.on('request', (r) => { if (r.url().includes('/users/')) requests++; });
  await page.click('#register-form button[type="submit"]');
  assert.equal(requests, 0);
  assert.equal(await fieldError(page, '#register-form', 'first_name'), 'Enter your first name.');
  assert.equal(await fieldError(page, '#register-form', 'email'), 'Enter your email address.');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'first_name', 'focus moves to the first invalid field');

  await page.fill('#first_name', 'Grace');
  await page.fill('#last_name', 'Hopper');
  await page.fill('#email', randomEmail('grace'));
  await page.fill('#password', 'password1234');
  let r = await submit(page, '#register-form', '/users/register/');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'password_common');
  await assertOnlyFieldError(page, '#register-form', 'password', r.body);

  await page.fill('#password', 'short pw');
  r = await submit(page, '#register-form', '/users/register/');
  assert.equal(r.body.code, 'password_too_short');
  await assertOnlyFieldError(page, '#register-form', 'password', r.body);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');

  await page.fill('#email', 'not an email');
  await page.fill('#password', PASSWORD);
  r = await submit(page, '#register-form', '/users/register/');
  assert.equal(r.body.code, 'invalid_email');
  await assertOnlyFieldError(page, '#register-form', 'email', r.body);

  assertNoProblems(page);
  await context.close();
});

test('login: wrong password at the top; unconfirmed account offers a new link', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('login') });
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);
  await page.fill('#email', email);
  await page.fill('#password', 'not the right password');
  let r = await submit(page, '#login-form', '/users/login/');
  assert.equal(r.status, 401);
  assert.equal(await formAlert(page, '#login-form'), r.body.error);
  assert.equal(await page.getAttribute('#login-form .form-alert', 'role'), 'alert');
  assert.equal(await fieldError(page, '#login-form', 'email'), '');
  assert.equal(await fieldError(page, '#login-form', 'password'), '');
  assert.equal(new URL(page.url()).pathname, '/auth/login');

  // While a request runs the button is disabled and says so.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/users/login/', async (route) => { await held; await route.continue(); });
  const button = page.locator('#login-form button[type="submit"]');
  await button.click();
  await page.waitForFunction(() => document.querySelector('#login-form button[type="submit"]').disabled);
  assert.equal(await button.textContent(), 'Signing in…');
  assert.equal(await page.getAttribute('#login-form', 'aria-busy'), 'true');
  assert.equal(await formAlert(page, '#login-form'), '', 'the old error is cleared');
  release();
  await page.locator('#login-form .form-alert:not([hidden])').waitFor();
  assert.equal(await button.textContent(), 'Log in');
  assert.equal(await button.isDisabled(), false);
  await page.unroute('**/users/login/');

  const { email: pending } = await register(server, { email: randomEmail('pending') });
  await page.fill('#email', pending);
  await page.fill('#password', PASSWORD);
  r = await submit(page, '#login-form', '/users/login/');
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'inactive');
  assert.ok((await formAlert(page, '#login-form')).startsWith(r.body.error));
  const resend = page.locator('#login-form .form-alert a');
  assert.equal(await resend.getAttribute('href'), `/auth/regenerate-token?email=${encodeURIComponent(pending)}`);
  await resend.click();
  await page.waitForURL(/\/auth\/regenerate-token/);
  assert.equal(await page.inputValue('#email'), pending);
  await page.click('#regenerate-form button[type="submit"]');
  await page.locator('#regenerate-done').waitFor();

  assertNoProblems(page);
  await context.close();
});

test('profile: bad phone, bad birth date, not an image; change password: wrong current', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('profile') });
  const { context, page } = await openPage(browser);
  await logIn(page, email);

  await page.fill('#phone_number', '12345');
  let r = await submit(page, '#profile-form', '/users/update-user/');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'invalid_phone_number');
  await assertOnlyFieldError(page, '#profile-form', 'phone_number', r.body);

  await page.fill('#phone_number', '+4915112345678');
  await page.fill('#birth_date', '2999-01-01');
  r = await submit(page, '#profile-form', '/users/update-user/');
  assert.equal(r.body.code, 'invalid_birth_date');
  await assertOnlyFieldError(page, '#profile-form', 'birth_date', r.body);

  await page.fill('#birth_date', '1990-05-17');
  await page.setInputFiles('#thumbnail', tempFile('notes.png', Buffer.from('this is not an image, just text\n')));
  r = await submit(page, '#profile-form', '/users/update-user/');
  assert.equal(r.status, 415);
  assert.equal(r.body.code, 'not_an_image');
  await assertOnlyFieldError(page, '#profile-form', 'thumbnail', r.body);
  assert.ok(await page.locator('#thumbnail-preview').isHidden(), 'a file that is not an image shows no preview');

  await page.fill('#github_link', 'http://github.com/me');
  await page.setInputFiles('#thumbnail', []);
  r = await submit(page, '#profile-form', '/users/update-user/');
  assert.equal(r.body.code, 'invalid_github_link');
  await assertOnlyFieldError(page, '#profile-form', 'github_link', r.body);

  // Nothing was stored by the failed attempts.
  const me = await (await context.request.get(`${server.url}/users/current-user/`)).json();
  assert.equal(me.profile.phone_number, null);
  assert.equal(me.profile.birth_date, null);

  // Change password: wrong current password, then mismatched confirmation (caught here).
  await page.fill('#current_password', 'definitely wrong password');
  await page.fill('#new_password', 'another long passphrase 1');
  await page.fill('#new_password_confirm', 'another long passphrase 1');
  r = await submit(page, '#password-form', '/users/change-password/');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'wrong_password');
  await assertOnlyFieldError(page, '#password-form', 'current_password', r.body);

  await page.fill('#current_password', PASSWORD);
  await page.fill('#new_password_confirm', 'another long passphrase 2');
  await page.click('#password-form button[type="submit"]');
  assert.equal(await fieldError(page, '#password-form', 'new_password_confirm'), 'The two passwords do not match.');
  assert.equal(await fieldError(page, '#password-form', 'current_password'), '', 'old errors are cleared');

  await page.fill('#new_password_confirm', 'another long passphrase 1');
  await page.fill('#new_password', 'password1234');
  await page.fill('#new_password_confirm', 'password1234');
  r = await submit(page, '#password-form', '/users/change-password/');
  assert.equal(r.body.code, 'password_common');
  await assertOnlyFieldError(page, '#password-form', 'new_password', r.body);

  assertNoProblems(page);
  await context.close();
});

test('change-password page: garbage token, missing token, mismatched confirmation', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/password/change-password?token=${'x'.repeat(43)}`);
  await page.fill('#password', 'a perfectly fine password 3');
  await page.fill('#password_confirm', 'a perfectly fine password 4');
  await page.click('#reset-form button[type="submit"]');
  assert.equal(await fieldError(page, '#reset-form', 'password_confirm'), 'The two passwords do not match.');

  await page.fill('#password_confirm', 'a perfectly fine password 3');
  const r = await submit(page, '#reset-form', '/users/password-change/change-user-password/');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'invalid_token');
  assert.match(await formAlert(page, '#reset-form'), /expired/);
  assert.equal(await page.locator('#reset-form .form-alert a').getAttribute('href'), '/auth/password/request-change');

  await page.goto(`${server.url}/auth/password/change-password`);
  assert.match(await formAlert(page, '#reset-form'), /link from your password reset email/);

  assertNoProblems(page);
  await context.close();
});

test('429 shows how long to wait, from Retry-After', async () => {
  const limited = await startServer({ env: { GATEHOUSE_RATE_ACCOUNT_MAX: '2', GATEHOUSE_RATE_ACCOUNT_WINDOW: '600' } });
  const { context, page } = await openPage(browser);
  await page.goto(`${limited.url}/auth/login`);
  await page.fill('#email', randomEmail('flood'));
  await page.fill('#password', 'wrong wrong wrong wrong');
  let r;
  for (let i = 0; i < 5; i++) {
    r = await submit(page, '#login-form', '/users/login/');
    if (r.status === 429) break;
  }
  assert.equal(r.status, 429);
  const seconds = Number(r.headers['retry-after']);
  assert.ok(seconds > 0);
  assert.equal(await formAlert(page, '#login-form'), `Too many attempts, try again in ${seconds} second${seconds === 1 ? '' : 's'}.`);
  assertNoProblems(page);
  await context.close();
  await limited.stop();
});
