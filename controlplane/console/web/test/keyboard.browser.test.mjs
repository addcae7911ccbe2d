// Keyboard only: with page.keyboard and nothing else (Tab, Shift+Tab,
// Enter, Space, arrows, typing), an operator signs in, opens the apps,
// creates an app and a key, moves through the app's tabs with the arrow
// keys, saves a setting, revokes the key through its confirmation and
// signs out. Focus is visible on the way.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startConsole, tabTo } from './harness.mjs';

let h;

before(async () => {
  h = await startConsole();
});

after(async () => {
  await h?.stop();
});

const hash = (page) => page.evaluate(() => location.hash);
const focused = (page) => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName);

test('every action is reachable by keyboard', async () => {
  const page = await h.page();
  const kb = page.keyboard;

  await tabTo(page, '[data-testid="token"]');
  await kb.type(h.adminToken);
  await kb.press('Enter');
  await page.getByTestId('sign-out').waitFor();

  await tabTo(page, '[data-testid="nav-apps"]');
  // The focus ring shows where the keyboard is.
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow), 'none');
  await kb.press('Enter');
  await page.getByTestId('new-app').waitFor();
  assert.equal(await hash(page), '#/apps');

  await tabTo(page, '[data-testid="new-app"]');
  await kb.press('Space');
  await tabTo(page, '[data-testid="app-name"]');
  await kb.type('Keyboard app');
  await tabTo(page, '[data-testid="create-app"]');
  await kb.press('Enter');
  await page.getByTestId('create-key').waitFor();
  assert.match(await hash(page), /^#\/apps\/[^/]+\/keys$/);
  const appId = decodeURIComponent((await hash(page)).split('/')[2]);
  assert.equal((await h.admin('GET', `/apps/${appId}`)).name, 'Keyboard app');

  await tabTo(page, '[data-testid="create-key"]');
  await kb.press('Space');
  await page.getByTestId('new-secret').waitFor();
  await h.screenshot(page, 'keyboard-new-key');

  // The tab list: one stop for Tab, arrows move between tabs.
  await tabTo(page, '[data-testid="tab-keys"]', { back: true });
  const steps = [
    ['ArrowRight', 'debug'],
    ['ArrowRight', 'channels'],
    ['ArrowLeft', 'debug'],
    ['End', 'usage'],
    ['ArrowRight', 'settings'],
    ['ArrowLeft', 'usage'],
    ['Home', 'settings'],
  ];
  for (const [key, tab] of steps) {
    await kb.press(key);
    await page.locator(`[data-testid="tab-${tab}"][aria-selected="true"]`).waitFor();
    await page.waitForFunction((t) => document.activeElement?.dataset.testid === `tab-${t}`, tab);
    assert.match(await hash(page), new RegExp(`/${tab}$`));
  }
  await h.screenshot(page, 'keyboard-tabs');

  // A setting, saved with Enter.
  await tabTo(page, '[data-field="settings.max_connections"] input');
  await kb.press('Control+A');
  await kb.type('5');
  await tabTo(page, '[data-testid="save-settings"]');
  await kb.press('Enter');
  await page.getByTestId('saved').waitFor();
  assert.equal((await h.admin('GET', `/apps/${appId}`)).settings.max_connections, 5);

  // Back to the keys through the tab list; revoke through the confirmation.
  await tabTo(page, '[data-testid="tab-settings"]', { back: true });
  await kb.press('ArrowRight');
  await page.locator('[data-testid="tab-keys"][aria-selected="true"]').waitFor();
  await tabTo(page, '[data-testid^="revoke-"]');
  await kb.press('Enter');
  // The safe choice has the focus; the confirming button is one step back.
  await page.waitForFunction(() => document.activeElement?.textContent === 'Cancel');
  await kb.press('Shift+Tab');
  assert.match(await focused(page), /^revoke-.*-confirm$/);
  await kb.press('Enter');
  await page.getByTestId('keys').getByText('Revoked').waitFor();
  const keys = await h.admin('GET', `/apps/${appId}/keys`);
  assert.ok(
    keys.items.every((k) => k.revoked_at),
    'the key was not revoked',
  );

  await tabTo(page, '[data-testid="sign-out"]', { back: true });
  await kb.press('Enter');
  await page.getByTestId('token').waitFor();
  await h.assertNoCSPViolations(page);
});
