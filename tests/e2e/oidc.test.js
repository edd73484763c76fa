// Sign in with a provider in the browser: "Continue with …" on gatehouse's login and register
// pages, the real provider's login and consent pages, back on gatehouse logged in; the linked
// provider on the profile page and its Unlink button, with the refusal shown next to it; a second
// login found by subject; an unconfirmed account of someone else's taken over; the keyboard
// alone; and the pages at phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cleanup, register, registerAndConfirm, randomEmail, PASSWORD } from '../support/server.js';
import { startOidcProvider, providerEnv, OP_PASSWORD } from '../support/oidc.js';
import { launchBrowser, openPage, assertNoProblems, screenshot, submit, formAlert } from './browser.js';

let server;
let op;
let browser;

before(async () => {
  op = await startOidcProvider();
  const client = op.newClient();
  server = await startServer({ env: providerEnv({ op: { issuer: op.issuer, clientId: client.client_id, clientSecret: client.client_secret, displayName: 'Test Provider' } }) });
  await client.register([`${server.url}/oauth/op/callback/`]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await cleanup();
  if (op) await op.stop();
});

/** A fresh account at the provider; resolves with its id and email. */
function providerAccount(claims = {}) {
  const email = claims.email || randomEmail('e2e-op');
  const id = op.setAccount(`acct-${email}`, { email, given_name: 'Grace', family_name: 'Hopper', ...claims });
  return { id, email };
}

/** On the provider's pages: sign in as account, allow access; ends back on gatehouse's profile. */
async function signInAtProvider(page, account) {
  await page.waitForURL((u) => u.href.startsWith(`${op.issuer}/interaction/`));
  assert.equal(await page.textContent('h1'), 'Sign in at the test provider');
  await page.fill('#login', account.id);
  await page.fill('#password', OP_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('h1', { hasText: 'Allow access' }).waitFor();
  assert.match(await page.textContent('#scopes'), /email/);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
}

test('Continue with the provider on the login page: its login and consent pages, then back on gatehouse, logged in', async () => {
  const account = providerAccount();
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);
  const button = page.getByRole('link', { name: 'Continue with Test Provider' });
  await button.waitFor();
  assert.equal(await button.getAttribute('href'), `${server.url}/oauth/op/login/?next=%2F`);
  await button.click();
  await signInAtProvider(page, account);
  assert.equal(await page.textContent('#profile-email'), account.email);
  assert.equal(await page.textContent('#profile-name'), 'Grace Hopper');
  await page.locator('#providers-card').waitFor();
  assert.deepEqual(await page.locator('#linked-list .session-title').allTextContents(), ['Test Provider Linked']);
  const me = await (await context.request.get(`${server.url}/users/current-user/`)).json();
  assert.deepEqual(me.providers, ['op']);
  assertNoProblems(page);
  await context.close();
});

test('the register page offers the provider too', async () => {
  const account = providerAccount();
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/register`);
  await page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(page, account);
  assert.equal(await page.textContent('#profile-email'), account.email);
  assertNoProblems(page);
  await context.close();
});

test('a second login, in another browser, finds the same account by subject though the provider\'s email changed', async () => {
  const account = providerAccount();
  const first = await openPage(browser);
  await first.page.goto(`${server.url}/auth/login`);
  await first.page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(first.page, account);
  const before = await (await first.context.request.get(`${server.url}/users/current-user/`)).json();
  await first.context.close();

  op.setAccount(account.id, { email: randomEmail('e2e-moved') });
  const second = await openPage(browser);
  await second.page.goto(`${server.url}/auth/login`);
  await second.page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(second.page, account);
  assert.equal(await second.page.textContent('#profile-email'), account.email, 'the account keeps its address');
  const after = await (await second.context.request.get(`${server.url}/users/current-user/`)).json();
  assert.equal(after.id, before.id);
  assertNoProblems(second.page);
  await second.context.close();
});

test('pre-hijacking: an unconfirmed account someone else registered with this address is claimed, and that password stops working', async () => {
  const email = randomEmail('e2e-victim');
  const planted = 'someone else chose this password 7';
  await register(server, { email, password: planted });
  const account = providerAccount({ email });
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);
  await page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(page, account);
  assert.equal(await page.textContent('#profile-email'), email);
  assert.equal(await page.textContent('#profile-name'), 'Grace Hopper', 'the names come from the provider');
  // the password set by whoever registered the address no longer logs in, in a browser either
  const other = await openPage(browser);
  await other.page.goto(`${server.url}/auth/login`);
  await other.page.fill('#email', email);
  await other.page.fill('#password', planted);
  const r = await submit(other.page, '#login-form', '/users/login/');
  assert.equal(r.status, 401);
  assert.equal(await formAlert(other.page, '#login-form'), r.body.error);
  assert.equal(new URL(other.page.url()).pathname, '/auth/login');
  assertNoProblems(page);
  await other.context.close();
  await context.close();
});

test('unlink on the profile page: refused next to the button for the only way in', async () => {
  // An account the provider made has no password: unlinking is refused, the reason beside the button.
  const { context, page } = await openPage(browser, { width: 375, height: 800 });
  const only = providerAccount();
  await page.goto(`${server.url}/auth/login`);
  await page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(page, only);
  await page.getByRole('button', { name: 'Unlink Test Provider' }).click();
  const error = page.locator('#unlink-op-error');
  await error.locator('a').waitFor();
  assert.match(await error.textContent(), /only way to log in/);
  assert.equal(await error.locator('a').getAttribute('href'), `/auth/password/request-change?email=${encodeURIComponent(only.email)}`);
  assert.equal(await page.getAttribute('#linked-list button', 'aria-describedby'), 'unlink-op-error');
  assert.equal(await page.locator('#linked-list li').count(), 1);
  await screenshot(page, 'home-unlink-refused');
  assertNoProblems(page);
  await context.close();
});

test('unlink on the profile page: an account with a password drops the provider', async () => {
  // a browser of its own: the provider remembers who signed in there before
  const { context, page } = await openPage(browser);
  const { email } = await registerAndConfirm(server, { email: randomEmail('e2e-unlink') });
  const linked = providerAccount({ email });
  await page.goto(`${server.url}/auth/login`);
  await page.getByRole('link', { name: 'Continue with Test Provider' }).click();
  await signInAtProvider(page, linked);
  assert.equal(await page.textContent('#profile-name'), 'Ada Lovelace', 'the linked account is the local one');
  await page.getByRole('button', { name: 'Unlink Test Provider' }).click();
  await page.locator('#providers-status', { hasText: 'Test Provider is no longer linked.' }).waitFor();
  assert.equal(await page.locator('#linked-list li').count(), 0);
  assert.equal(await page.isVisible('#linked-none'), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'providers-title');
  const me = await (await context.request.get(`${server.url}/users/current-user/`)).json();
  assert.deepEqual(me.providers, []);
  // the password still logs in
  const r = await context.request.post(`${server.url}/users/login/`, { data: { email, password: PASSWORD }, headers: { origin: server.url } });
  assert.equal(r.status(), 200);
  assertNoProblems(page);
  await context.close();
});

test('with the keyboard alone: Tab to Continue with the provider, Enter, and back', async () => {
  const account = providerAccount();
  const { context, page } = await openPage(browser);
  await page.goto(`${server.url}/auth/login`);
  await page.getByRole('link', { name: 'Continue with Test Provider' }).waitFor();
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement.textContent === 'Continue with Test Provider');
  }
  assert.ok(reached, 'Tab reaches the provider button');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.href.startsWith(`${op.issuer}/interaction/`));
  await page.focus('#login');
  await page.keyboard.type(account.id);
  await page.keyboard.press('Tab');
  await page.keyboard.type(OP_PASSWORD);
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'Allow access' }).waitFor();
  await page.getByRole('button', { name: 'Allow' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
  // Unlink is reachable and answers Enter (refused here: the account's only way in)
  await page.getByRole('button', { name: 'Unlink Test Provider' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('#unlink-op-error a').waitFor();
  assertNoProblems(page);
  await context.close();
});

for (const width of [375, 1280]) {
  test(`login, register and profile with a provider at ${width}px: no sideways scrolling`, async () => {
    const { context, page } = await openPage(browser, { width, height: 800 });
    for (const [name, path] of [['login-providers', '/auth/login'], ['register-providers', '/auth/register']]) {
      await page.goto(server.url + path);
      await page.getByRole('link', { name: 'Continue with Test Provider' }).waitFor();
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client, `${name}: ${scroll}px wide in ${client}px`);
      await screenshot(page, name);
    }
    await page.getByRole('link', { name: 'Continue with Test Provider' }).click();
    await signInAtProvider(page, providerAccount());
    await page.locator('#linked-list li').waitFor();
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(scroll <= client, `profile: ${scroll}px wide in ${client}px`);
    await screenshot(page, 'home-providers');
    assertNoProblems(page);
    await context.close();
  });
}
