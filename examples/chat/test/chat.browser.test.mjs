// The chat in a real browser: Debian's Chromium driven by playwright-core
// (no browser download) against `herald dev` and the built app with its
// backend. Two users talk, type, see each other come and go; one goes
// offline, writes meanwhile, and comes back: what it wrote is delivered
// once and in order, and what it missed arrives through resume. A third
// user reads the conversation from history; a fourth joins with channels
// signed by the backend instead of a token.
// Screenshots go to test-results/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { chatRoot, startStack } from '../scripts/stack.mjs';

/** Debian's chromium package; CHROMIUM overrides. */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Bound on each wait for the page. */
const WAIT_MS = 10_000;
const RESULTS = path.join(chatRoot, 'test-results');
/** No sandbox (CI runs as root in a container), no GPU, nothing phoning home. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let stack;
let browser;

before(async () => {
  assert.ok(existsSync(path.join(chatRoot, 'dist/index.html')), 'build the app first: npm run build');
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  await mkdir(RESULTS, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function open(user, query = '') {
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (err) => console.error(`[${user}] page error:`, err.message));
  await page.goto(`${stack.url}/?user=${user}&room=general${query}`);
  await status(page, 'connected');
  return { context, page };
}

function status(page, state) {
  return page.locator(`[data-testid="connection-status"][data-state="${state}"]`).waitFor();
}

async function members(page, expected) {
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('[data-testid="member"]')].map((e) => e.textContent).sort().join(',') === want,
    [...expected].sort().join(','),
    { timeout: WAIT_MS },
  );
}

/** The texts of the messages shown, in order. */
function texts(page) {
  return page.locator('[data-testid="message"] [data-testid="text"]').allTextContents();
}

async function say(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

async function shows(page, text) {
  await page.locator('[data-testid="message"]', { hasText: text }).first().waitFor();
}

const shot = (page, name) => page.screenshot({ path: path.join(RESULTS, `${name}.png`) });

test('two users chat, type, come and go, and one survives going offline', { timeout: 80_000 }, async () => {
  const ann = await open('ann');
  const bo = await open('bo');
  await members(ann.page, ['ann', 'bo']);
  await members(bo.page, ['ann', 'bo']);

  // Typing: shown while ann types, gone once she sends.
  await ann.page.getByTestId('composer').pressSequentially('hel');
  await bo.page.getByTestId('typing').filter({ hasText: 'ann is typing' }).waitFor();
  await shot(bo.page, '1-bo-sees-ann-typing');
  await ann.page.getByTestId('composer').press('Backspace');
  await say(ann.page, 'hello from ann');
  await bo.page.getByTestId('typing').filter({ hasText: /^$/ }).waitFor();
  await shows(bo.page, 'hello from ann');
  await say(bo.page, 'hi ann');
  await shows(ann.page, 'hi ann');
  await ann.page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'hello from ann' }).waitFor();
  await shot(ann.page, '2-ann-conversation');

  // Bo goes offline: the badge says so, what he writes waits.
  await bo.context.setOffline(true);
  await status(bo.page, 'disconnected');
  await say(bo.page, 'offline one');
  await say(bo.page, 'offline two');
  await bo.page.locator('[data-testid="message"][data-status="pending"]').nth(1).waitFor();
  await say(ann.page, 'while you were away');
  await ann.page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'while you were away' }).waitFor();
  await shot(bo.page, '3-bo-offline');

  // Back online: his messages reach ann once and in order; he gets what he missed.
  await bo.context.setOffline(false);
  await status(bo.page, 'connected');
  await shows(bo.page, 'while you were away');
  await bo.page.locator('[data-testid="messages"][data-resume="recovered"]').waitFor();
  await shows(ann.page, 'offline two');
  await bo.page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'offline two' }).waitFor();
  await members(ann.page, ['ann', 'bo']);
  const annSees = await texts(ann.page);
  assert.deepEqual(
    annSees.filter((t) => t.startsWith('offline')),
    ['offline one', 'offline two'],
  );
  assert.deepEqual(annSees, ['hello from ann', 'hi ann', 'while you were away', 'offline one', 'offline two']);
  const boSees = await texts(bo.page);
  assert.equal(boSees.filter((t) => t === 'while you were away').length, 1);
  assert.deepEqual([...boSees].sort(), [...annSees].sort());
  await shot(bo.page, '4-bo-back-online');
  await shot(ann.page, '5-ann-after-bo-returned');

  // A newcomer gets the conversation from history.
  const cy = await open('cy');
  await shows(cy.page, 'offline two');
  assert.deepEqual(await texts(cy.page), annSees);
  await members(ann.page, ['ann', 'bo', 'cy']);
  await cy.context.close();

  // A user whose channels the backend signs (no token) joins and talks too.
  const dee = await open('dee', '&auth=signature');
  await members(ann.page, ['ann', 'bo', 'dee']);
  await say(dee.page, 'signed by the backend');
  await shows(ann.page, 'signed by the backend');
  await dee.page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'signed by the backend' }).waitFor();
  await dee.context.close();

  // Bo leaves: ann sees only herself.
  await bo.context.close();
  await members(ann.page, ['ann']);
  await shot(ann.page, '6-ann-alone');
  await ann.context.close();
});
