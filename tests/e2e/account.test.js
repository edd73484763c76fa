// The whole life of an account in the browser: register, confirm from the mail, log in, edit
// the profile, upload an avatar, revoke another session, change the password, log out, log in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, cleanup, randomEmail, waitForMail, extractLink, PASSWORD,
} from '../support/server.js';
import { launchBrowser, openPage, assertNoProblems, avatarPng, tempFile, removeTempFiles } from './browser.js';

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

async function logIn(page, email, password) {
  await page.goto(`${server.url}/auth/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
}

test('register, confirm, profile, avatar, sessions, password change, log out', async () => {
  const email = randomEmail('e2e');
  const { context, page } = await openPage(browser);

  // Register.
  await page.goto(`${server.url}/auth/register`);
  assert.equal(await page.title(), 'Create an account · gatehouse');
  await page.fill('#first_name', 'Ada');
  await page.fill('#last_name', 'Lovelace');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#register-form button[type="submit"]');
  await page.waitForURL(/\/auth\/confirming\?email=/);
  assert.match(await page.textContent('#confirming-text'), new RegExp(email.replace(/[.]/g, '\\.')));

  // Confirm through the mailed link.
  const mails = await waitForMail(server.dataDir, { to: email });
  const link = extractLink(mails[0].text, '/users/register/confirm/');
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, '/auth/confirmed');
  await page.getByRole('link', { name: 'Log in', exact: true }).click();
  await page.waitForURL(/\/auth\/login$/);

  // Log in and see the profile.
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.press('#password', 'Enter');
  await page.waitForURL(`${server.url}/`);
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.textContent('#profile-name'), 'Ada Lovelace');
  assert.equal(await page.textContent('#profile-email'), email);
  assert.equal(await page.textContent('#avatar-initials'), 'AL');
  assert.ok((await page.textContent('#fact-joined')).length > 0);
  assert.equal(await page.inputValue('#first_name'), 'Ada');

  // Edit names, phone, birth date and GitHub link.
  await page.fill('#first_name', 'Augusta Ada');
  await page.fill('#last_name', 'King');
  await page.fill('#phone_number', '+441632960123');
  await page.fill('#birth_date', '1985-12-10');
  await page.fill('#github_link', 'https://github.com/ada');
  await page.click('#profile-form button[type="submit"]');
  await page.locator('#profile-status', { hasText: 'Profile saved.' }).waitFor();
  assert.equal(await page.textContent('#profile-name'), 'Augusta Ada King');
  assert.equal(await page.textContent('#fact-phone'), '+441632960123');
  assert.equal(await page.textContent('#fact-birth'), 'December 10, 1985');
  assert.equal(await page.getAttribute('#fact-github', 'href'), 'https://github.com/ada');
  let me = await (await context.request.get(`${server.url}/users/current-user/`)).json();
  assert.equal(me.first_name, 'Augusta Ada');
  assert.equal(me.last_name, 'King');
  assert.equal(me.profile.phone_number, '+441632960123');
  assert.equal(me.profile.birth_date, '1985-12-10');
  assert.equal(me.profile.github_link, 'https://github.com/ada');
  // After a reload the form shows the stored values.
  await page.reload();
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.inputValue('#phone_number'), '+441632960123');
  assert.equal(await page.inputValue('#birth_date'), '1985-12-10');

  // Upload an avatar: a preview first, then the stored thumbnail.
  await page.setInputFiles('#thumbnail', tempFile('me.png', avatarPng(96)));
  await page.locator('#thumbnail-preview').waitFor();
  assert.match(await page.getAttribute('#thumbnail-preview', 'src'), /^blob:/);
  await page.click('#profile-form button[type="submit"]');
  await page.locator('#profile-status', { hasText: 'Profile saved.' }).waitFor();
  me = await (await context.request.get(`${server.url}/users/current-user/`)).json();
  assert.match(me.thumbnail || '', /^https?:\/\/.+\/media\/avatars\/.+\.png$/);
  const avatar = page.locator('#avatar-img');
  await avatar.waitFor();
  assert.equal(await avatar.getAttribute('src'), me.thumbnail);
  await page.waitForFunction(() => {
    const img = document.querySelector('#avatar-img');
    return img.complete && img.naturalWidth > 0;
  });
  assert.equal(await avatar.evaluate((img) => img.naturalWidth), 96);
  assert.ok(await page.locator('#avatar-initials').isHidden());
  assert.ok(await page.locator('#thumbnail-preview').isHidden(), 'the preview is cleared after saving');

  // A second browser logs in; the first one revokes it.
  const second = await openPage(browser, {
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  });
  await logIn(second.page, email, PASSWORD);
  await page.reload();
  await page.locator('#sessions-list li').nth(1).waitFor();
  assert.equal(await page.locator('#sessions-list li').count(), 2);
  const current = page.locator('#sessions-list li.is-current');
  assert.equal(await current.count(), 1);
  assert.match(await current.textContent(), /This device/);
  assert.equal(await current.locator('button').count(), 0, 'no revoke button for this device');
  const other = page.locator('#sessions-list li:not(.is-current)');
  assert.match(await other.locator('.session-title').textContent(), /Firefox 128 on Windows/);
  assert.match(await other.locator('.session-meta').textContent(), /IP 127\.0\.0\.1/);
  await other.getByRole('button', { name: /Revoke/ }).click();
  await page.locator('#sessions-status', { hasText: 'Session revoked.' }).waitFor();
  assert.equal(await page.locator('#sessions-list li').count(), 1);
  await second.page.reload();
  await second.page.locator('#signed-out').waitFor();
  assert.ok(await second.page.locator('#signed-in').isHidden());
  assertNoProblems(second.page);
  await second.context.close();

  // Change the password.
  const newPassword = 'a brand new passphrase 7';
  await page.fill('#current_password', PASSWORD);
  await page.fill('#new_password', newPassword);
  await page.fill('#new_password_confirm', newPassword);
  await page.click('#password-form button[type="submit"]');
  await page.locator('#password-status', { hasText: 'Password changed.' }).waitFor();
  assert.equal(await page.inputValue('#current_password'), '', 'the form is cleared');

  // Log out, then log in with the new password.
  await page.click('#logout');
  await page.waitForURL(/\/auth\/login$/);
  assert.equal((await context.request.get(`${server.url}/users/current-user/`)).status(), 401);
  await logIn(page, email, newPassword);
  assert.equal(await page.textContent('#profile-name'), 'Augusta Ada King');

  assertNoProblems(page);
  await context.close();
});
