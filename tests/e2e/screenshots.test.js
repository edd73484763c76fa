// Screenshots of every page at phone and desktop width, into build/screenshots/, with a check
// that no page logs an error, breaks its CSP or scrolls sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, registerAndConfirm, randomEmail, login, updateUser, PASSWORD,
} from '../support/server.js';
import { launchBrowser, openPage, assertNoProblems, screenshot, avatarPng, tempFile, removeTempFiles } from './browser.js';

const WIDTHS = [375, 1280];
const OTHER_DEVICES = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
];

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

const SIGNED_OUT_PAGES = [
  ['home-signed-out', '/'],
  ['login', '/auth/login'],
  ['register', '/auth/register'],
  ['confirming', '/auth/confirming?email=ada%40example.com'],
  ['confirmed', '/auth/confirmed'],
  ['regenerate-token', '/auth/regenerate-token?reason=This%20confirmation%20link%20has%20expired%20or%20was%20already%20used.'],
  ['error', '/auth/error?reason=This%20password%20reset%20link%20has%20expired.'],
  ['request-change', '/auth/password/request-change'],
  ['change-password', `/auth/password/change-password?token=${'A'.repeat(43)}`],
];

/** The page fits its viewport: no sideways scrolling. */
async function assertNoHorizontalScroll(page, what) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${what}: content is ${scroll}px wide in a ${client}px viewport`);
}

for (const width of WIDTHS) {
  test(`signed-out pages at ${width}px`, async () => {
    const { context, page } = await openPage(browser, { width, height: 800 });
    for (const [name, path] of SIGNED_OUT_PAGES) {
      await page.goto(server.url + path);
      await page.waitForLoadState('networkidle');
      if (name === 'home-signed-out') await page.locator('#signed-out').waitFor();
      assert.match(await page.title(), /gatehouse/);
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await assertNoHorizontalScroll(page, name);
      await screenshot(page, name);
    }
    assertNoProblems(page);
    await context.close();
  });

  test(`error states at ${width}px`, async () => {
    const { context, page } = await openPage(browser, { width, height: 800 });
    const { email } = await registerAndConfirm(server, { email: randomEmail('shot') });
    await page.goto(`${server.url}/auth/register`);
    await page.fill('#first_name', 'Grace');
    await page.fill('#last_name', 'Hopper');
    await page.fill('#email', email);
    await page.fill('#password', 'short');
    await page.click('#register-form button[type="submit"]');
    await page.locator('#password-error:not(:empty)').waitFor();
    // a taken address answers like a new one, so the email error shown is a malformed address
    await page.fill('#email', 'grace.hopper@');
    await page.fill('#password', PASSWORD);
    await page.click('#register-form button[type="submit"]');
    await page.locator('#email-error:not(:empty)').waitFor();
    await page.fill('#password', 'short');
    await assertNoHorizontalScroll(page, 'register errors');
    await screenshot(page, 'register-errors');

    await page.goto(`${server.url}/auth/login`);
    await page.fill('#email', email);
    await page.fill('#password', 'not my password at all');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-form .form-alert:not([hidden])').waitFor();
    await screenshot(page, 'login-error');
    assertNoProblems(page);
    await context.close();
  });

  test(`profile page, signed in with data, at ${width}px`, async () => {
    const email = `ada.${width}@example.com`;
    await registerAndConfirm(server, { email });
    for (const ua of OTHER_DEVICES) await login(server, { email }, { headers: { 'user-agent': ua } });
    const { cookie } = await login(server, { email });
    const r = await updateUser(server, cookie, {
      phone_number: '+441632960123',
      birth_date: '1985-12-10',
      github_link: 'https://github.com/ada-lovelace',
      thumbnail: { bytes: avatarPng(160), filename: 'ada.png', type: 'image/png' },
    });
    assert.equal(r.status, 200, r.text);

    const { context, page } = await openPage(browser, { width, height: 800 });
    await page.goto(`${server.url}/auth/login`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.press('#password', 'Enter');
    await page.locator('#signed-in').waitFor();
    await page.locator('#sessions-list li').nth(3).waitFor();
    await page.waitForFunction(() => document.querySelector('#avatar-img').naturalWidth > 0);
    await page.waitForLoadState('networkidle');
    await assertNoHorizontalScroll(page, 'profile');
    await screenshot(page, 'home');

    // The same page with a saved profile and a failed password change.
    await page.fill('#current_password', 'wrong current password');
    await page.fill('#new_password', PASSWORD);
    await page.fill('#new_password_confirm', PASSWORD);
    await page.click('#password-form button[type="submit"]');
    await page.locator('#current_password-error:not(:empty)').waitFor();
    await page.fill('#phone_number', '12345');
    await page.click('#profile-form button[type="submit"]');
    await page.locator('#phone_number-error:not(:empty)').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'home-errors');

    assertNoProblems(page);
    await context.close();
  });
}
