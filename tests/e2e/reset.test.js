// Forgot password in the browser: request a link, follow it from the mail, choose a new
// password, log in with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cleanup, registerAndConfirm, passwordResetLink, randomEmail } from '../support/server.js';
import { launchBrowser, openPage, assertNoProblems } from './browser.js';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await cleanup();
});

test('forgot password → mailed link → new password → log in', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('reset') });
  const { context, page } = await openPage(browser);

  await page.goto(`${server.url}/auth/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL(/\/auth\/password\/request-change$/);
  await page.fill('#email', email);
  await page.click('#request-form button[type="submit"]');
  const done = page.locator('#request-done');
  await done.waitFor();
  assert.match(await done.textContent(), /If an account exists for that address/);
  assert.ok(await page.locator('#request-form').isHidden());

  const link = await passwordResetLink(server, email);
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, '/auth/password/change-password');
  assert.match(new URL(page.url()).searchParams.get('token'), /^[A-Za-z0-9_-]{43}$/);

  const newPassword = 'reset to something long 99';
  await page.fill('#password', newPassword);
  await page.fill('#password_confirm', newPassword);
  await page.click('#reset-form button[type="submit"]');
  await page.locator('#reset-done').waitFor();
  assert.ok(await page.locator('#reset-form').isHidden());
  await page.locator('#reset-done').getByRole('link', { name: 'Log in' }).click();
  await page.waitForURL(/\/auth\/login$/);

  await page.fill('#email', email);
  await page.fill('#password', newPassword);
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.textContent('#profile-email'), email);

  assertNoProblems(page);
  await context.close();
});

test('the mailed link, used twice, lands on the error page with the reason', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('reuse') });
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/password/request-change`);
  await page.fill('#email', email);
  await page.click('#request-form button[type="submit"]');
  await page.locator('#request-done').waitFor();
  const link = await passwordResetLink(server, email);
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, '/auth/password/change-password');
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, '/auth/error');
  const reason = new URL(page.url()).searchParams.get('reason');
  assert.ok(reason && reason.length > 0);
  assert.equal(await page.textContent('#reason'), reason);
  assert.equal(await page.getByRole('link', { name: 'Request a new link' }).getAttribute('href'), '/auth/password/request-change');
  assertNoProblems(page);
  await context.close();
});
