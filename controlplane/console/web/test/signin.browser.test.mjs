// Signing in: a wrong token shows the API's error and keeps the sign-in
// screen; the dev admin token opens the console, whose token stays in
// sessionStorage only; signing out forgets it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startConsole } from './harness.mjs';

let h;

before(async () => {
  h = await startConsole();
});

after(async () => {
  await h?.stop();
});

test("herald dev's banner and root page lead to the console", async () => {
  assert.match(h.banner, new RegExp(`^  Console +${h.consoleURL.replace(/[.]/g, '\\.')} `, 'm'));
  const page = await h.page();
  await page.goto(h.url + '/');
  await page.getByRole('link', { name: 'Open the web console' }).click();
  await page.getByTestId('token').waitFor();
  assert.equal(page.url(), h.consoleURL);
  // Without its slash, the console's path redirects.
  await page.goto(h.consoleURL.replace(/\/$/, ''));
  await page.getByTestId('token').waitFor();
  assert.equal(page.url(), h.consoleURL);
});

test('a wrong token shows the API error', async () => {
  const page = await h.page();
  await h.screenshot(page, 'signin');
  await page.getByTestId('token').fill('hat_wrong');
  await page.getByTestId('sign-in').click();
  const err = page.getByTestId('error');
  await err.waitFor();
  assert.match(await err.textContent(), /token|unauthorized|authenticated/i);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await h.screenshot(page, 'signin-error');
});

test('the admin token signs in; sign out forgets it', async () => {
  const page = await h.signedInPage();
  const stored = await page.evaluate(() => Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)));
  assert.deepEqual(stored, [h.adminToken]);
  const cookies = await page.context().cookies();
  assert.equal(cookies.length, 0);
  assert.ok(!page.url().includes(h.adminToken));
  await page.getByTestId('sign-out').click();
  await page.getByTestId('token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});
