// Browser helpers for the end-to-end tests of the built-in web UI: launch Debian's Chromium
// through playwright-core, watch every page for console errors, failed page resources and CSP
// violations, and take screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../support/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'build', 'screenshots');

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new context + page whose problems are collected in page.problems: console errors and
 * warnings (CSP violations are console errors), uncaught exceptions, and failed loads of
 * anything that is not an API call. API answers with 4xx are part of the flows under test,
 * so Chromium's "Failed to load resource" lines for /users/ URLs are expected.
 */
export async function openPage(browser, { width = 1280, height = 800, userAgent } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, userAgent, locale: 'en-US', timezoneId: 'Europe/Berlin' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.problems = [];
  const isApi = (url) => {
    try { return new URL(url).pathname.startsWith('/users/'); } catch { return false; }
  };
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    if (/^Failed to load resource: the server responded with a status of [45]\d\d/.test(text) && isApi(msg.location().url)) return;
    page.problems.push(`console ${msg.type()} on ${page.url()}: ${text} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => page.problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400 && !isApi(res.url())) page.problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    const failure = req.failure();
    // Navigating away aborts pending loads; that is not a fault of the page.
    if (failure && /ERR_ABORTED/.test(failure.errorText)) return;
    page.problems.push(`request failed: ${req.url()} ${failure ? failure.errorText : ''}`);
  });
  return { context, page };
}

export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], `problems on the page:\n${page.problems.join('\n')}`);
}

/** build/screenshots/<name>-<width>.png */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const { width } = page.viewportSize();
  const path = join(SCREENSHOT_DIR, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text of the error shown under the input named `name` (empty when none). */
export async function fieldError(page, formSelector, name) {
  return page.locator(`${formSelector} [name="${name}"]`).evaluate((input) => {
    const slot = input.closest('.field').querySelector('.field-error');
    return slot ? slot.textContent : '';
  });
}

/** Submit a form, wait for its API answer and for the form to be idle again. */
export async function submit(page, form, apiPath) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === apiPath),
    page.click(`${form} button[type="submit"]`),
  ]);
  const body = await res.json();
  await page.waitForFunction((sel) => document.querySelector(sel).dataset.busy !== 'true', form);
  return { status: res.status(), body, headers: res.headers() };
}

/** The text of the alert at the top of a form (empty when hidden). */
export async function formAlert(page, formSelector) {
  return page.locator(`${formSelector} .form-alert`).evaluate((el) => (el.hidden ? '' : el.textContent));
}

// ------------------------------------------------------------------ test images

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real size×size RGB PNG: a soft diagonal gradient with a lighter disc, like a portrait. */
export function avatarPng(size = 96) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * size);
      const dx = x - size / 2;
      const dy = y - size * 0.42;
      const inDisc = dx * dx + dy * dy < (size * 0.22) ** 2 || (dy > size * 0.3 && dx * dx + (dy - size * 0.62) ** 2 < (size * 0.36) ** 2);
      const base = [Math.round(99 + 80 * t), Math.round(102 + 40 * t), Math.round(241 - 60 * t)];
      const px = inDisc ? base.map((v) => Math.round(v + (255 - v) * 0.75)) : base;
      row[1 + x * 3] = px[0];
      row[2 + x * 3] = px[1];
      row[3 + x * 3] = px[2];
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const tempDirs = new Set();

/** Write `bytes` to a fresh temp file named `name`; returns its path. removeTempFiles() cleans up. */
export function tempFile(name, bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  tempDirs.add(dir);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

export function removeTempFiles() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
