// The live pages against a real herald dev: the debug console shows a
// pusher-js client's connection and subscription within a second, a REST
// publish with its serial, the event creator's message reaches the
// client, filters and pause work, terminate closes a signed-in user's
// connection, markup in names and payloads stays text; the history and
// channels tabs show what happened. Screenshots under test-results/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startConsole, WAIT_MS } from './harness.mjs';
import { connect, createApp, newClient, restClient, subscribe, waitFor } from './pusher-clients.mjs';

/** Issue 18: rows appear within a second of the subscription. */
const LIVE_WITHIN_MS = 1000;
const CHANNEL = 'live-room';
const PRESENCE = 'presence-lobby';
const XSS = '<img src=x onerror=window.__xss=1>';
/**
 * The debug stream's cap, low enough that a burst of BURST publishes goes
 * over it (the tests' other traffic stays far below).
 */
const CAP_PER_SECOND = 100;
const BURST = 500;

let h;
let app;
let page;
const clients = [];
const published = []; // {event, serial}

before(async () => {
  h = await startConsole({ extraArgs: ['--debug-events-per-second', String(CAP_PER_SECOND)] });
  app = await createApp(h, 'live-test');
  page = await h.signedInPage(`apps/${app.appId}/debug`);
  await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
});

after(async () => {
  for (const c of clients) c.disconnect();
  await h?.stop();
});

/** A screenshot of the whole page from its top (the top bar is sticky). */
async function shot(name) {
  await page.evaluate(() => scrollTo(0, 0));
  await h.screenshot(page, name);
}

/** The log's rows matching the attributes, e.g. {type: 'subscribed', socket: '1.2'}. */
function rows(attrs) {
  const sel = Object.entries(attrs)
    .map(([k, v]) => `[data-${k}="${String(v).replace(/["\\]/g, '\\$&')}"]`)
    .join('');
  return page.locator(`[data-testid="debug-row"]${sel}`);
}

test('a pusher-js connection and subscription appear live, within a second', async () => {
  const client = await connect(h, app);
  clients.push(client);
  const socket = client.connection.socket_id;
  const { at } = await subscribe(client, CHANNEL);
  const subscribed = rows({ type: 'subscribed', socket, channel: CHANNEL });
  // Bounded by the second, counted from subscription_succeeded.
  await subscribed.waitFor({ timeout: LIVE_WITHIN_MS });
  const latency = Date.now() - at;
  await rows({ type: 'connected', socket }).waitFor({ timeout: LIVE_WITHIN_MS });
  console.log(`# subscribed row visible ${latency} ms after pusher-js subscription_succeeded (bound ${LIVE_WITHIN_MS} ms)`);
  const details = await rows({ type: 'connected', socket }).getByTestId('row-details').textContent();
  assert.match(details, /transport ws/);
  assert.match(details, /from 127\.0\.0\.1/);
});

test('a REST publish appears with the serial the API answered', async () => {
  const rest = restClient(h, app);
  const res = await rest.trigger(CHANNEL, 'rest-event', { n: 1, text: 'from the pusher SDK' });
  const body = await res.json();
  const serial = body.serials?.[CHANNEL];
  assert.ok(serial > 0, `serials in ${JSON.stringify(body)}`);
  published.push({ event: 'rest-event', serial });
  const row = rows({ type: 'api_message', channel: CHANNEL, serial });
  await row.waitFor();
  assert.equal(await row.getByTestId('row-event').textContent(), 'rest-event');
  assert.match(await row.getByTestId('row-details').textContent(), /from the pusher SDK/);
});

test("the event creator's message reaches the pusher-js subscriber", async () => {
  const client = clients[0];
  const got = waitFor(client.channel(CHANNEL), 'creator-event');
  await page.getByTestId('creator-channels').fill(CHANNEL);
  await page.getByTestId('creator-event').fill('creator-event');
  await page.getByTestId('creator-data').fill('{"from":"console","n":2}');
  await page.getByTestId('creator-send').click();
  assert.deepEqual(await got, { from: 'console', n: 2 });
  const serial = Number(await page.getByTestId('creator-serial').textContent());
  assert.ok(serial > published[0].serial);
  published.push({ event: 'creator-event', serial });
  await rows({ type: 'api_message', serial }).waitFor();
  await shot('debug-console');

  // An error names its field: no channel.
  await page.getByTestId('creator-channels').fill('');
  await page.getByTestId('creator-send').click();
  await page.locator('[data-field="channels"] [data-testid="field-error"]').waitFor();
  await page.getByTestId('creator-channels').fill(CHANNEL);
});

test('filters hide and show rows: by type and by free text', async () => {
  const messages = rows({ type: 'api_message' });
  const subs = rows({ type: 'subscribed' });
  assert.ok((await messages.count()) >= 2);
  await page.getByTestId('type-api_message').click();
  assert.equal(await page.getByTestId('type-api_message').getAttribute('aria-pressed'), 'false');
  await messages.first().waitFor({ state: 'detached' });
  assert.ok((await subs.count()) >= 1);
  await page.getByTestId('type-api_message').click();
  await messages.nth(1).waitFor();

  // Free text: a socket id keeps that connection's rows only.
  const socket = clients[0].connection.socket_id;
  await page.getByTestId('filter-text').fill(socket);
  await messages.first().waitFor({ state: 'detached' });
  await rows({ type: 'subscribed', socket }).waitFor();
  for (const s of await page.getByTestId('debug-row').evaluateAll((els) => els.map((e) => e.textContent))) {
    assert.ok(s.includes(socket), `row without ${socket}: ${s}`);
  }
  // Free text matches payloads too.
  await page.getByTestId('filter-text').fill('FROM THE PUSHER sdk');
  await rows({ type: 'api_message', serial: published[0].serial }).waitFor();
  assert.equal(await page.getByTestId('debug-row').count(), 1);
  // The channel and event filters.
  await page.getByTestId('filter-text').fill('');
  await page.getByTestId('filter-event').fill('creator');
  await rows({ type: 'api_message', serial: published[1].serial }).waitFor();
  assert.equal(await page.getByTestId('debug-row').count(), 1);
  await page.getByTestId('filters-reset').click();
  await messages.nth(1).waitFor();
});

test('pause holds new rows and counts them; resume shows them', async () => {
  await page.getByTestId('pause').click();
  const rest = restClient(h, app);
  const body = await (await rest.trigger(CHANNEL, 'while-paused', {})).json();
  const serial = body.serials[CHANNEL];
  // The event reached the page (counted as held) but is not shown.
  await page.locator('[data-testid="held-count"]', { hasText: /^[1-9]/ }).waitFor();
  assert.equal(await rows({ serial }).count(), 0);
  assert.match(await page.getByTestId('resume').textContent(), /Resume \(\d+ new\)/);
  await page.getByTestId('resume').click();
  await rows({ type: 'api_message', serial }).waitFor();
  published.push({ event: 'while-paused', serial });
});

test('a row opens with the keyboard and shows every field', async () => {
  const row = rows({ type: 'api_message', serial: published[0].serial });
  await row.focus();
  await page.keyboard.press('Enter');
  assert.equal(await row.getAttribute('aria-expanded'), 'true');
  const details = page.getByTestId('row-expanded');
  await details.waitFor();
  assert.match(await details.textContent(), /"text": "from the pusher SDK"/);
  await page.keyboard.press('Enter');
  await details.waitFor({ state: 'detached' });
});

test("terminate connections from a signed-in user's row closes that pusher-js connection", async () => {
  const user = { id: 'user-to-terminate' };
  const client = await connect(h, app, { user });
  clients.push(client);
  const socket = client.connection.socket_id;
  client.signin();
  const row = rows({ type: 'signed_in', socket });
  await row.waitFor();
  assert.match(await row.getByTestId('row-details').textContent(), /user user-to-terminate/);
  const closed = waitFor(client.connection, 'state_change', { filter: (s) => s.previous === 'connected' });
  await row.getByTestId('terminate').click();
  await row.getByTestId('terminate-confirm').click();
  await page.getByTestId('terminate-result').waitFor();
  await closed;
  await rows({ type: 'disconnected', socket }).waitFor();
  client.disconnect();
});

test('markup in a channel name, an event name and a payload is shown as text', async () => {
  // A channel name cannot hold markup: the subscription_error shows the name the client sent.
  const client = clients[0];
  client.subscribe(XSS);
  const refused = rows({ type: 'subscription_error', channel: XSS });
  await refused.waitFor();
  assert.equal(await refused.getByTestId('row-channel').textContent(), XSS);

  const channel = 'xss-@=,.;_room';
  const rest = restClient(h, app);
  const body = await (await rest.trigger(channel, XSS, { html: XSS })).json();
  const row = rows({ type: 'api_message', serial: body.serials[channel] });
  await row.waitFor();
  assert.equal(await row.getByTestId('row-channel').textContent(), channel);
  assert.equal(await row.getByTestId('row-event').textContent(), XSS);
  assert.ok((await row.getByTestId('row-details').textContent()).includes(XSS));
  await row.click();
  await page.getByTestId('row-expanded').waitFor();
  assert.ok((await page.getByTestId('row-expanded').textContent()).includes(XSS));
  // Through the event creator too.
  await page.getByTestId('creator-channels').fill(channel);
  await page.getByTestId('creator-event').fill(XSS);
  await page.getByTestId('creator-data').fill(XSS);
  await page.getByTestId('creator-send').click();
  const result = page.getByTestId('creator-result').filter({ hasText: channel });
  const serial = Number(await result.getByTestId('creator-serial').textContent());
  await rows({ type: 'api_message', serial }).waitFor();

  assert.equal(await page.locator('main img').count(), 0, 'no element was made from the markup');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot('debug-xss');
  await row.click(); // close it again
});

test('the debug console works from the keyboard alone, with a visible focus', async () => {
  const active = () => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName);
  const focusVisible = () =>
    page.evaluate(() => {
      const st = getComputedStyle(document.activeElement);
      return st.boxShadow !== 'none' || (st.outlineStyle !== 'none' && st.outlineWidth !== '0px');
    });
  /** Presses Tab until the focused element's test id is want (bounded). */
  const tabTo = async (want) => {
    for (let i = 0; i < 60; i++) {
      if ((await active()) === want) return;
      await page.keyboard.press('Tab');
    }
    assert.fail(`Tab never reached ${want}`);
  };
  const got = waitFor(clients[0].channel(CHANNEL), 'keyboard-event');
  await page.getByTestId('creator-channels').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(CHANNEL);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('keyboard-event');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"via":"keyboard"}');
  await tabTo('creator-send');
  assert.ok(await focusVisible(), 'the focused button shows it');
  await page.keyboard.press('Enter');
  assert.deepEqual(await got, { via: 'keyboard' });
  const result = page.getByTestId('creator-result').filter({ hasText: CHANNEL });
  published.push({ event: 'keyboard-event', serial: Number(await result.getByTestId('creator-serial').textContent()) });

  await tabTo('type-api_message');
  assert.ok(await focusVisible(), 'the focused chip shows it');
  await page.keyboard.press('Space');
  assert.equal(await page.getByTestId('type-api_message').getAttribute('aria-pressed'), 'false');
  await page.keyboard.press('Space');
  assert.equal(await page.getByTestId('type-api_message').getAttribute('aria-pressed'), 'true');

  await tabTo('debug-row');
  assert.ok(await focusVisible(), 'the focused row shows it');
  await page.keyboard.press('Enter');
  await page.getByTestId('row-expanded').waitFor();
  await page.keyboard.press('Enter');
  await page.getByTestId('row-expanded').waitFor({ state: 'detached' });
});

test('the history tab shows the published messages with their serials', async () => {
  await page.getByTestId('tab-history').click();
  await page.getByTestId('history-channel').fill(CHANNEL);
  await page.getByTestId('history-load').click();
  for (const p of published) {
    const r = page.locator(`[data-testid="history-row"][data-serial="${p.serial}"]`);
    await r.waitFor();
    assert.equal(await r.getByTestId('history-event').textContent(), p.event);
  }
  // Newest first by default.
  const serials = await page.getByTestId('history-row').evaluateAll((els) => els.map((e) => Number(e.dataset.serial)));
  assert.deepEqual(serials, [...serials].sort((a, b) => b - a));
  assert.match(await page.locator(`[data-testid="history-row"][data-serial="${published[1].serial}"]`).getByTestId('history-data').textContent(), /"from": "console"/);
  await shot('history');

  // Paged: two a page, oldest first.
  await page.getByTestId('history-direction').selectOption('forwards');
  await page.getByTestId('history-limit').fill('2');
  await page.getByTestId('history-load').click();
  const pageSerials = () => page.getByTestId('history-row').evaluateAll((els) => els.map((e) => Number(e.dataset.serial)));
  const want = published.map((p) => p.serial).sort((a, b) => a - b);
  await page.locator(`[data-testid="history-row"][data-serial="${want[0]}"]`).waitFor();
  assert.deepEqual(await pageSerials(), want.slice(0, 2));
  await page.getByTestId('next-page').click();
  await page.locator(`[data-testid="history-row"][data-serial="${want[2]}"]`).waitFor();
  assert.deepEqual(await pageSerials(), want.slice(2, 4));
  await page.getByTestId('prev-page').click();
  await page.locator(`[data-testid="history-row"][data-serial="${want[0]}"]`).waitFor();
  // A bad page size shows the API's message.
  await page.getByTestId('history-limit').fill('0');
  await page.getByTestId('history-load').click();
  assert.match(await page.getByTestId('error').textContent(), /limit/);
});

test('the history tab says when the app keeps no history', async () => {
  const account = await h.admin('POST', '/accounts', { name: 'no-history' });
  const off = await h.admin('POST', '/apps', { account_id: account.id, name: 'no-history', settings: { history_retention_s: 0 } });
  const p = await h.signedInPage(`apps/${off.id}/history`);
  await p.getByTestId('history-off').waitFor();
  assert.match(await p.getByTestId('history-off').textContent(), /history_retention_s/);
  await p.close();
});

test('the channels tab shows a channel with its subscription count and a presence member', async () => {
  const member = newClient(h, app, { presence: { user_id: 'member-1' } });
  clients.push(member);
  await subscribe(member, PRESENCE);
  await subscribe(member, CHANNEL);
  await page.getByTestId('tab-channels').click();
  const room = page.locator(`[data-testid="channel-row"][data-channel="${CHANNEL}"]`);
  // The first client and the member: refreshed live until both count.
  await room.getByTestId('subscription-count').filter({ hasText: /^2$/ }).waitFor({ timeout: WAIT_MS });
  const lobby = page.locator(`[data-testid="channel-row"][data-channel="${PRESENCE}"]`);
  await lobby.getByTestId('user-count').filter({ hasText: /^1$/ }).waitFor();
  await lobby.getByTestId('members-toggle').click();
  await page.getByTestId('member').filter({ hasText: 'member-1' }).waitFor();
  await shot('channels');
  // The prefix filter.
  await page.getByTestId('channels-prefix').fill('presence-');
  await room.waitFor({ state: 'detached' });
  await lobby.waitFor();
});

test('over the cap, what the log shows plus the dropped count is what happened', async () => {
  await page.getByTestId('tab-debug').click();
  await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
  const rest = restClient(h, app);
  const batch = Array.from({ length: 10 }, () => ({ channel: 'burst', name: 'burst-event', data: '{}' }));
  await Promise.all(Array.from({ length: BURST / batch.length }, () => rest.triggerBatch(batch)));
  const shown = rows({ type: 'api_message', channel: 'burst' });
  const dropped = async () => Number((await page.getByTestId('dropped-count').textContent()).replace(/\D/g, ''));
  await page.waitForFunction(
    (want) => {
      const n = document.querySelectorAll('[data-testid="debug-row"][data-type="api_message"][data-channel="burst"]').length;
      const d = Number(document.querySelector('[data-testid="dropped-count"]').textContent.replace(/\D/g, ''));
      return n + d === want;
    },
    BURST,
  );
  const n = await shown.count();
  console.log(`# burst of ${BURST}: ${n} shown, ${await dropped()} dropped (cap ${CAP_PER_SECOND}/s)`);
  assert.ok((await dropped()) > 0);
  assert.ok(n > 0);
  await rows({ type: 'dropped' }).first().waitFor();
});

test('the debug console shows reconnecting while the stream fails, then live again', async () => {
  const p = await h.signedInPage('');
  let refused = 0;
  const pattern = `**/admin/v1/apps/${app.appId}/debug/events`;
  await p.route(pattern, (route) => {
    refused++;
    return route.abort('connectionrefused');
  });
  await p.evaluate((id) => {
    location.hash = `#/apps/${id}/debug`;
  }, app.appId);
  await p.locator('[data-testid="stream-status"][data-state="reconnecting"]').waitFor();
  assert.match(await p.getByTestId('stream-status').textContent(), /Reconnecting/);
  await p.unroute(pattern);
  await p.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
  assert.ok(refused >= 1);
  // The stream works again: a publish shows.
  const body = await (await restClient(h, app).trigger(CHANNEL, 'after-reconnect', {})).json();
  await p.locator(`[data-testid="debug-row"][data-serial="${body.serials[CHANNEL]}"]`).waitFor();
  await p.close();
});
