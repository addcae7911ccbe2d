// The webhooks tab against a real herald dev and a local receiver: an
// endpoint created in the page gets a channel_occupied delivery that fails
// (the receiver answers 500) and shows first in the log; with the receiver
// answering 200, Redeliver makes it delivered; Test shows the receiver's
// status code. Screenshot under test-results/.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { startConsole } from './harness.mjs';
import { connect, createApp, subscribe } from './pusher-clients.mjs';

/**
 * Webhook timings short enough for a test: a failing delivery is given up
 * after a few seconds instead of 5 minutes.
 */
const HERALD_ARGS = ['--webhook-allow-private', '--webhook-retry-window', '3s', '--webhook-timeout', '2s'];
/** How long a failing delivery may take to be marked failed (retry window and backoff). */
const FAILED_WITHIN_MS = 20_000;
/** How long the app's new webhook config may take to reach the gateway before an event is published. */
const CONFIG_SYNC_MS = 3000;
/** Channels subscribed to until one makes a delivery. */
const MAX_ATTEMPTS = 5;

let h;
let app;
let receiver;
let receiverURL;
const received = [];
let answer = 500;

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ status: answer, body });
      res.writeHead(answer, { 'Content-Type': 'text/plain' });
      res.end(answer === 200 ? 'ok' : 'failing on purpose');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverURL = `http://127.0.0.1:${receiver.address().port}/pusher/webhooks`;
  h = await startConsole({ extraArgs: HERALD_ARGS });
  app = await createApp(h, 'webhooks-test');
});

after(async () => {
  await h?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('a failed delivery shows first, redeliver delivers it; Test shows the status code', async (t) => {
  // The debug console shows the attempts as they happen.
  const debug = await h.signedInPage(`apps/${app.appId}/debug`);
  await debug.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
  const page = await h.signedInPage(`apps/${app.appId}/webhooks`);
  await page.getByTestId('add-endpoint').click();
  await page.getByTestId('endpoint-url').fill(receiverURL);
  // Only channel_occupied, so each subscription makes exactly one delivery.
  for (const n of ['channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss']) {
    await page.getByTestId(`endpoint-event-${n}`).uncheck();
  }
  await page.getByTestId('endpoint-save').click();
  const endpoint = page.getByTestId('endpoint').filter({ hasText: receiverURL });
  await endpoint.waitFor();
  assert.match(await endpoint.textContent(), /channel_occupied/);
  await page.getByTestId('delivery-log').waitFor();

  // Test: the receiver's 500.
  await endpoint.getByTestId('test-endpoint').click();
  await endpoint.locator('[data-testid="test-status"][data-code="500"]').waitFor();

  // A subscription makes a channel_occupied delivery once the gateway has
  // the app's new webhook config: subscribe to new channels until one does.
  const client = await connect(h, app);
  t.after(() => client.disconnect());
  const failedRows = page.getByTestId('deliveries-failed').getByTestId('delivery');
  const anyDelivery = page.getByTestId('delivery');
  for (let i = 1; ; i++) {
    await subscribe(client, `hooked-${i}`);
    try {
      await anyDelivery.first().waitFor({ timeout: CONFIG_SYNC_MS });
      break;
    } catch (err) {
      if (i >= MAX_ATTEMPTS) throw err;
    }
  }
  const failed = failedRows.first();
  await failed.waitFor({ timeout: FAILED_WITHIN_MS });
  const id = await failed.getAttribute('data-delivery');
  assert.equal(await failed.getByTestId('delivery-code').textContent(), '500');
  assert.ok(Number(await failed.getByTestId('delivery-attempts').textContent()) >= 1);
  assert.match(await failed.getByTestId('delivery-error').textContent(), /500/);
  // Failures first: the failed section comes before the others in the page.
  const order = await page.locator('[data-testid^="deliveries-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert.deepEqual(order, ['deliveries-failed', 'deliveries-pending', 'deliveries-delivered']);
  await page.evaluate(() => scrollTo(0, 0));
  await h.screenshot(page, 'webhooks-failed');
  const attempt = debug.locator('[data-testid="debug-row"][data-type="webhook"]').filter({ hasText: 'failed' }).first();
  await attempt.waitFor();
  assert.match(await attempt.getByTestId('row-details').textContent(), /HTTP 500.*attempts \d+.*channel_occupied/);

  answer = 200;
  await failed.getByTestId('redeliver').click();
  await page.getByTestId('redeliver-result').waitFor();
  const delivered = page.getByTestId('deliveries-delivered').locator(`[data-delivery="${id}"]`);
  await delivered.waitFor({ timeout: FAILED_WITHIN_MS });
  assert.equal(await delivered.getByTestId('delivery-status').textContent(), 'delivered');
  assert.equal(await delivered.getByTestId('delivery-code').textContent(), '200');
  assert.ok(received.some((r) => r.status === 200 && r.body.includes('channel_occupied')));

  await endpoint.getByTestId('test-endpoint').click();
  await endpoint.locator('[data-testid="test-status"][data-code="200"]').waitFor();
  await page.evaluate(() => scrollTo(0, 0));
  await h.screenshot(page, 'webhooks');
  await debug.locator('[data-testid="debug-row"][data-type="webhook"]').filter({ hasText: 'delivered' }).first().waitFor();
  await debug.evaluate(() => scrollTo(0, 0));
  await h.screenshot(debug, 'debug-webhooks');
  await debug.close();
});

test('an endpoint is edited and deleted; a bad URL shows the API message beside it', async () => {
  const page = await h.signedInPage(`apps/${app.appId}/webhooks`);
  const endpoint = page.getByTestId('endpoint').filter({ hasText: receiverURL });
  await endpoint.getByTestId('edit-endpoint').click();
  await page.getByTestId('endpoint-url').fill('ftp://example.com/hook');
  await page.getByTestId('endpoint-save').click();
  await page.locator('[data-field="url"] [data-testid="field-error"]').waitFor();
  await page.getByTestId('endpoint-url').fill(`${receiverURL}?v=2`);
  await page.getByTestId('endpoint-batch').check();
  await page.getByTestId('endpoint-save').click();
  const edited = page.getByTestId('endpoint').filter({ hasText: `${receiverURL}?v=2` });
  await edited.waitFor();
  assert.match(await edited.textContent(), /batched/);
  await edited.getByTestId('delete-endpoint').click();
  await edited.getByTestId('delete-endpoint-confirm').click();
  await edited.waitFor({ state: 'detached' });
  await page.getByText('No endpoints').waitFor();
});
