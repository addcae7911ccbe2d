// The admin pages in a real browser against `herald dev`: accounts,
// plans, apps, keys (the secret shown once), settings with the API's
// validation message beside the field, enable/disable and delete, the
// audit log; names that carry markup are shown as text. Screenshots of
// each page go to test-results/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { routeId, startConsole } from './harness.mjs';

/** Markup an attacker would put in a name; must show as text. */
const XSS = '<img src=x onerror=window.__xss=1>';

let h;
/** Made by the first test, used by the next ones. */
const made = {};

before(async () => {
  h = await startConsole();
});

after(async () => {
  await h?.stop();
});

/** Fails unless the page shows text literally and ran none of it. */
async function assertInert(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'the injected handler ran');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'a name became an element');
}

test('create an account, an app and a key: the secret is shown once', async () => {
  const page = await h.signedInPage('accounts');
  await page.getByTestId('account-name').fill(`Acme ${XSS}`);
  await page.getByTestId('create-account').click();
  await page.locator('h1', { hasText: 'Acme <img' }).waitFor();
  made.accountId = await routeId(page, 'accounts');
  await assertInert(page, XSS);
  await h.screenshot(page, 'account');

  await page.getByTestId('nav-apps').click();
  await page.getByTestId('new-app').click();
  await page.getByTestId('app-account').selectOption(made.accountId);
  await page.getByTestId('app-name').fill(`Shop ${XSS}`);
  await page.getByTestId('create-app').click();
  await page.getByTestId('create-key').waitFor();
  made.appId = await routeId(page, 'apps');
  assert.match(await page.evaluate(() => location.hash), /\/keys$/);
  await assertInert(page, `Shop ${XSS}`);

  await page.getByTestId('create-key').click();
  const secret = (await page.getByTestId('secret-value').textContent()).trim();
  const key = (await page.getByTestId('new-key').textContent()).trim();
  assert.ok(secret.length >= 16, `secret ${secret}`);
  await page.getByTestId('copy-secret').waitFor();
  const keys = await h.admin('GET', `/apps/${made.appId}/keys`);
  assert.ok(
    keys.items.some((k) => k.key === key),
    'the key is listed by the API',
  );
  assert.ok(!JSON.stringify(keys).includes(secret), 'the API lists the secret');
  await h.screenshot(page, 'app-keys-new-secret');

  await page.reload();
  await page.getByTestId('keys').getByText(key).waitFor();
  assert.equal(await page.getByTestId('new-secret').count(), 0);
  assert.ok(!(await page.content()).includes(secret), 'the secret is still on the page after a reload');
  await h.screenshot(page, 'app-keys');

  // Revoking asks first; cancel keeps the key.
  await page.getByTestId(`revoke-${key}`).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await h.admin('GET', `/apps/${made.appId}/keys`)).items.find((k) => k.key === key).revoked_at, null);
  await page.getByTestId(`revoke-${key}`).click();
  await page.getByTestId(`revoke-${key}-confirm`).click();
  await page.getByTestId('keys').getByText('Revoked').waitFor();
  assert.notEqual((await h.admin('GET', `/apps/${made.appId}/keys`)).items.find((k) => k.key === key).revoked_at, null);

  await page.getByTestId('nav-apps').click();
  await page.getByTestId('apps').getByText(`Shop ${XSS}`).waitFor();
  await assertInert(page, `Shop ${XSS}`);
  await h.screenshot(page, 'apps');
  await h.assertNoCSPViolations(page);
});

test("an invalid setting shows the API's message beside its field", async () => {
  assert.ok(made.appId, 'needs the app of the first test');
  const page = await h.signedInPage(`apps/${made.appId}/settings`);
  const field = page.locator('[data-field="settings.max_message_bytes"]');
  await field.locator('input').fill('0');
  await page.getByTestId('save-settings').click();
  await field.getByTestId('field-error').waitFor();
  assert.match(await field.getByTestId('field-error').textContent(), /settings\.max_message_bytes must be between 1 and/);
  assert.equal(await field.locator('input').getAttribute('aria-invalid'), 'true');
  await h.screenshot(page, 'app-settings-invalid');

  // A value that is not a number: the API names the field as well.
  const origins = page.locator('[data-field="settings.activity_timeout_s"]');
  await field.locator('input').fill('2048');
  await origins.locator('input').fill('soon');
  await page.getByTestId('save-settings').click();
  await origins.getByTestId('field-error').waitFor();
  assert.equal(await field.getByTestId('field-error').count(), 0);

  await origins.locator('input').fill('30');
  // An origin that could never match: the API names its element
  // (settings.allowed_origins[1]), shown beside the list.
  const allowed = page.locator('[data-field="settings.allowed_origins"]');
  await allowed.locator('textarea').fill('https://app.example\nhttps://app.example/');
  await page.getByTestId('save-settings').click();
  await allowed.getByTestId('field-error').waitFor();
  assert.match(await allowed.getByTestId('field-error').textContent(), /settings\.allowed_origins\[1\] must not end with \//);
  assert.equal(await page.getByTestId('error').count(), 0);
  await allowed.locator('textarea').fill('');
  await page.locator('[data-field="settings.client_events"] select').selectOption('on');
  await page.getByTestId('save-settings').click();
  await page.getByTestId('saved').waitFor();
  const app = await h.admin('GET', `/apps/${made.appId}`);
  assert.equal(app.settings.max_message_bytes, 2048);
  assert.equal(app.settings.activity_timeout_s, 30);
  assert.equal(app.settings.client_events, true);
  await h.screenshot(page, 'app-settings');
  await h.assertNoCSPViolations(page);
});

test('disable and enable an app; every app tab opens', async () => {
  const page = await h.signedInPage(`apps/${made.appId}/settings`);
  await page.getByTestId('disable-app').click();
  await page.getByTestId('disable-app-confirm').click();
  await page.locator('[data-testid="app-state"]', { hasText: 'Disabled' }).waitFor();
  assert.equal((await h.admin('GET', `/apps/${made.appId}`)).enabled, false);
  await page.getByTestId('enable-app').click();
  await page.locator('[data-testid="app-state"]', { hasText: 'Enabled' }).waitFor();
  assert.equal((await h.admin('GET', `/apps/${made.appId}`)).enabled, true);

  for (const tab of ['debug', 'channels', 'history', 'webhooks', 'usage', 'keys', 'settings']) {
    await page.getByTestId(`tab-${tab}`).click();
    await page.locator(`[data-testid="tab-${tab}"][aria-selected="true"]`).waitFor();
    assert.match(await page.evaluate(() => location.hash), new RegExp(`/${tab}$`));
  }
});

test('plans: create one with limits, reject a bad limit, edit it, put an account on it', async () => {
  const page = await h.signedInPage('plans');
  await page.getByTestId('new-plan').click();
  await page.getByTestId('plan-name').fill('Startup');
  await page.locator('[data-field="limits.max_connections"] input').fill('-5');
  await page.getByTestId('save-plan').click();
  const bad = page.locator('[data-field="limits.max_connections"] [data-testid="field-error"]');
  await bad.waitFor();
  await page.locator('[data-field="limits.max_connections"] input').fill('500');
  await page.locator('[data-field="limits.max_messages_per_day"] input').fill('100000');
  await page.getByTestId('save-plan').click();
  await page.getByTestId('plans').getByText('Startup').waitFor();
  const plan = (await h.admin('GET', '/plans')).items.find((p) => p.name === 'Startup');
  assert.equal(plan.limits.max_connections, 500);

  await page.getByTestId(`edit-plan-${plan.id}`).click();
  await page.locator('[data-field="limits.publish_rate"] input').fill('50');
  await page.getByTestId('save-plan').click();
  await page.getByTestId('plans').locator('td', { hasText: /^50$/ }).waitFor();
  assert.equal((await h.admin('GET', `/plans/${plan.id}`)).limits.publish_rate, 50);
  await h.screenshot(page, 'plans');

  await page.evaluate((id) => {
    location.hash = `#/accounts/${encodeURIComponent(id)}`;
  }, made.accountId);
  await page.getByTestId('account-plan').selectOption(plan.id);
  await page.getByTestId('assign-plan').click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await h.admin('GET', `/accounts/${made.accountId}`)).plan_id, plan.id);
  await page.getByTestId('account-totals').getByText('Messages left today').waitFor();
  await h.screenshot(page, 'account-plan');

  // A plan in use cannot be deleted: the API's answer says why.
  await page.getByTestId('nav-plans').click();
  await page.getByTestId(`edit-plan-${plan.id}`).click();
  await page.getByTestId('delete-plan').click();
  await page.getByTestId('delete-plan-confirm').click();
  await page.getByTestId('plan-form').getByTestId('error').waitFor();
  assert.match(await page.getByTestId('plan-form').getByTestId('error').textContent(), /account/i);

  // One no account uses can.
  const spare = await h.admin('POST', '/plans', { name: 'Spare', enforcement: 'soft' });
  await page.reload();
  await page.getByTestId(`edit-plan-${spare.id}`).click();
  await page.getByTestId('delete-plan').click();
  await page.getByTestId('delete-plan-confirm').click();
  await page.getByTestId('plan-form').waitFor({ state: 'detached' });
  await page.getByTestId(`edit-plan-${spare.id}`).waitFor({ state: 'detached' });
  await assert.rejects(h.admin('GET', `/plans/${spare.id}`), /404/);
  await h.assertNoCSPViolations(page);
});

test('the audit log lists what the console did; accounts page lists accounts', async () => {
  const page = await h.signedInPage('audit');
  await page.getByTestId('audit').getByText('app.create').waitFor();
  await page.getByTestId('audit').getByText('key.revoke').first().waitFor();
  await assertInert(page, XSS);
  await h.screenshot(page, 'audit');
  await page.getByTestId('nav-accounts').click();
  await page.getByTestId('accounts').getByText(`Acme ${XSS}`).waitFor();
  await h.screenshot(page, 'accounts');
  await h.assertNoCSPViolations(page);
});

// After the audit log's test: the apps this one makes would push the
// earlier actions off the audit log's first page.
test('the apps list filters by account and by name, over every page', async () => {
  // More apps than a page (the API's default limit is 50), in an account of
  // their own; the one sought sorts last by id, beyond the first page.
  const fillers = await h.admin('POST', '/accounts', { name: 'Filler apps' });
  const { items } = await h.admin('GET', '/apps?limit=500');
  for (let i = items.length; i <= 50; i++) {
    const n = String(i).padStart(2, '0');
    await h.admin('POST', '/apps', { account_id: fillers.id, name: `Filler ${n}`, id: `filler-${n}` });
  }
  await h.admin('POST', '/apps', { account_id: fillers.id, name: 'Far Away Storefront', id: 'zzzz-far' });

  const page = await h.signedInPage('apps');
  const table = page.getByTestId('apps');
  const rows = table.locator('tbody tr');
  await page.getByTestId('next-page').waitFor();
  assert.equal(await table.getByText('Far Away Storefront').count(), 0, 'the app sought is on the first page');

  await page.getByTestId('apps-account-filter').selectOption(made.accountId);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="apps"] tbody tr').length === 1);
  await table.getByText(`Shop ${XSS}`).waitFor();
  await page.getByTestId('apps-account-filter').selectOption('');

  // The API searches every app, ignoring case.
  await page.getByTestId('apps-name-filter').fill('STOREFRONT');
  await table.getByText('Far Away Storefront').waitFor();
  assert.equal(await rows.count(), 1);
  assert.equal(await page.getByTestId('next-page').count(), 0);
  // The hash keeps the search: a reload shows the same.
  assert.match(await page.evaluate(() => location.hash), /^#\/apps\?q=STOREFRONT$/);
  await page.reload();
  await table.getByText('Far Away Storefront').waitFor();
  assert.equal(await page.getByTestId('apps-name-filter').inputValue(), 'STOREFRONT');
  assert.equal(await rows.count(), 1);

  // With an account, and with a wildcard that matches only itself.
  await page.getByTestId('apps-account-filter').selectOption(made.accountId);
  await table.getByText('No app matches.').waitFor();
  await page.getByTestId('apps-name-filter').fill('shop');
  await table.getByText(`Shop ${XSS}`).waitFor();
  assert.equal(await rows.count(), 1);
  await page.getByTestId('apps-name-filter').fill('%');
  await table.getByText('No app matches.').waitFor();
  await page.getByTestId('apps-name-filter').fill('');
  await page.waitForFunction(() => location.hash === '#/apps');
  await h.assertNoCSPViolations(page);
});

test("the accounts list pages with the API's cursor", async () => {
  // More than a page (the API's default limit is 50).
  const { items } = await h.admin('GET', '/accounts?limit=500');
  for (let i = items.length; i <= 50; i++) await h.admin('POST', '/accounts', { name: `Filler ${String(i).padStart(2, '0')}` });
  const page = await h.signedInPage('accounts');
  const rows = page.getByTestId('accounts').locator('tbody tr');
  await page.getByTestId('next-page').waitFor();
  assert.equal(await rows.count(), 50);
  assert.equal(await page.getByTestId('prev-page').isDisabled(), true);
  const first = await rows.first().textContent();
  await page.getByTestId('next-page').click();
  await page.getByText('Page 2').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="accounts"] tbody tr').length < 50);
  assert.equal(await page.getByTestId('next-page').isDisabled(), true);
  await page.getByTestId('prev-page').click();
  await page.getByText('Page 1').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="accounts"] tbody tr').length === 50);
  assert.equal(await rows.first().textContent(), first);
});

test('delete an app and an account, each after a confirmation', async () => {
  const page = await h.signedInPage(`apps/${made.appId}/settings`);
  await page.getByTestId('delete-app').click();
  await page.getByTestId('delete-app-confirm').click();
  await page.getByTestId('apps').waitFor();
  assert.equal(await page.evaluate(() => location.hash), '#/apps');
  await assert.rejects(h.admin('GET', `/apps/${made.appId}`), /404/);

  await page.evaluate((id) => {
    location.hash = `#/accounts/${encodeURIComponent(id)}`;
  }, made.accountId);
  await page.getByTestId('delete-account').click();
  await page.getByTestId('delete-account-confirm').click();
  await page.getByTestId('accounts').waitFor();
  await assert.rejects(h.admin('GET', `/accounts/${made.accountId}`), /404/);
});
