// The login form and the profile page work with the keyboard alone, with visible focus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cleanup, registerAndConfirm, randomEmail, PASSWORD } from '../support/server.js';
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

/** A short name for the focused element: its id, else its class, else its tag. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el.id || el.className || el.tagName.toLowerCase();
  });
}

/**
 * The focused element shows a focus indicator: an outline of 2 px or more, or a focus ring
 * drawn as a 3 px box-shadow (waits out the short transition of the ring).
 */
async function hasVisibleFocus(page) {
  try {
    await page.waitForFunction(() => {
      const s = getComputedStyle(document.activeElement);
      return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || / 0px 0px 0px 3px/.test(s.boxShadow);
    }, null, { timeout: 1000 });
    return true;
  } catch {
    return false;
  }
}

test('log in with Tab, typing and Enter; the password toggle answers Space and Enter', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('keys') });
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);

  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'skip-link');
  assert.ok(await hasVisibleFocus(page));
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'brand');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'email');
  assert.ok(await hasVisibleFocus(page));
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'password');
  await page.keyboard.type(PASSWORD);

  // The toggle comes next: Space shows the password, Enter hides it again.
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'pw-toggle');
  assert.ok(await hasVisibleFocus(page));
  assert.equal(await page.getAttribute('#password', 'type'), 'password');
  await page.keyboard.press('Space');
  assert.equal(await page.getAttribute('#password', 'type'), 'text');
  assert.equal(await page.getAttribute('.pw-toggle', 'aria-pressed'), 'true');
  assert.equal(await page.textContent('.pw-toggle'), 'Hide');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#password', 'type'), 'password');
  assert.equal(await page.getAttribute('.pw-toggle', 'aria-pressed'), 'false');
  assert.equal(await page.inputValue('#password'), PASSWORD, 'toggling keeps the value');

  // Then "Forgot password?" and the submit button, in reading order.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Forgot password?');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.type), 'submit');
  assert.ok(await hasVisibleFocus(page));

  // Back to the password field and submit with Enter.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'password');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();

  // The skip link jumps past the header.
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'skip-link');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.notEqual(await focused(page), 'brand');

  assertNoProblems(page);
  await context.close();
});

test('every control of the profile page is reachable with Tab and shows focus', async () => {
  const { email } = await registerAndConfirm(server, { email: randomEmail('tab') });
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.press('#password', 'Enter');
  await page.locator('#signed-in').waitFor();
  await page.locator('#sessions-list li').first().waitFor();

  // Tab until focus wraps around; every visible control must have been focused, visibly.
  const controls = await page.evaluate(() => [...document.querySelectorAll('a[href], button, input')]
    .filter((el) => !el.disabled && el.offsetParent !== null)
    .map((el, i) => { el.dataset.tabCheck = String(i); return `${el.tagName}#${el.id}:${el.textContent.trim().slice(0, 20)}`; }));
  const seen = new Set();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate(() => document.activeElement.dataset.tabCheck);
    if (index === undefined) continue;
    if (seen.has(index) && index === '0') break;
    assert.ok(await hasVisibleFocus(page), `visible focus on ${controls[Number(index)]}`);
    seen.add(index);
  }
  const missed = controls.filter((_, i) => !seen.has(String(i)));
  assert.deepEqual(missed, [], 'controls never reached with Tab');

  // Log out with the keyboard.
  await page.focus('#logout');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/auth\/login$/);
  assertNoProblems(page);
  await context.close();
});
