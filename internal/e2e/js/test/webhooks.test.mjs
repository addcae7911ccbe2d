// Webhooks against the `pusher` server SDK's own check: a receiver built
// the way a Pusher customer builds one (`pusher.webhook({headers,
// rawBody})`) accepts Herald's requests — signature, key and the exact
// Content-Type. The endpoint's test route sends a signed webhook_test.
//
// e2e-target: any

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { createApp } from '../lib/apps.mjs';
import { connectClient, rest, restClient, subscribe, uniqueName, WAIT_MS } from '../lib/clients.mjs';
import { admin, APP } from '../lib/herald.mjs';

/** How long every event kind may take: the 3 s default leave delay, then the dispatcher. */
const ALL_KINDS_MS = 6 * WAIT_MS;
/** Pause between two looks at what the receiver got. */
const POLL_MS = 100;

/** A webhook receiver on a loopback port (herald dev allows private addresses; other modes need --webhook-allow-private). */
async function receiver(t) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, requests };
}

test('the pusher SDK validates a webhook from Herald', { timeout: 2 * WAIT_MS }, async (t) => {
  const r = await receiver(t);
  const endpoint = await admin('POST', `/apps/${APP.appId}/webhooks`, { url: r.url });
  t.after(() => admin('DELETE', `/apps/${APP.appId}/webhooks/${endpoint.id}`));

  const res = await admin('POST', `/apps/${APP.appId}/webhooks/${endpoint.id}/test`);
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.equal(res.status_code, 200);
  assert.equal(r.requests.length, 1);

  const hook = rest.webhook(r.requests[0]);
  assert.equal(hook.isContentTypeValid(), true, `Content-Type ${r.requests[0].headers['content-type']}`);
  assert.equal(hook.isValid(), true, 'signature or key refused');
  assert.deepEqual(hook.getEvents(), [{ name: 'webhook_test' }]);
  assert.ok(Math.abs(hook.getTime().getTime() - Date.now()) < 60_000);
  assert.match(r.requests[0].headers['x-herald-delivery'], /^whd_/);
  assert.match(r.requests[0].headers['user-agent'], /^Herald-Webhooks\//);

  // A tampered body fails the same check.
  const forged = rest.webhook({ headers: r.requests[0].headers, rawBody: r.requests[0].rawBody.replace('webhook_test', 'channel_vacated') });
  assert.equal(forged.isValid(), false);
});

test('pusher-js clients cause every event kind, and the pusher SDK validates each request', { timeout: 2 * ALL_KINDS_MS }, async (t) => {
  const app = await createApp({ client_events: true });
  const r = await receiver(t);
  const kinds = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss', 'subscription_count'];
  await admin('POST', `/apps/${app.appId}/webhooks`, { url: r.url, events: kinds });

  const news = uniqueName('news');
  const room = uniqueName('presence-room');
  const chat = uniqueName('private-chat');
  const cache = uniqueName('cache-scores');
  const alice = await connectClient({ t, app, presence: { user_id: 'alice', user_info: {} } });
  const bob = await connectClient({ t, app });
  // The endpoint's kinds reach the gateway through the app's config: the
  // first channel is joined again until its channel_occupied arrives.
  const sdk = restClient(app);
  const events = () => r.requests.flatMap((q) => sdk.webhook(q).getEvents());
  const until = async (what, pred, ms) => {
    const deadline = Date.now() + ms;
    while (!pred(events())) {
      if (Date.now() > deadline) {
        throw new Error(`no ${what} webhook after ${ms} ms; got ${JSON.stringify(events())}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const probeDeadline = Date.now() + ALL_KINDS_MS;
  for (;;) {
    await subscribe(bob, news);
    try {
      await until('channel_occupied', (evs) => evs.some((e) => e.name === 'channel_occupied' && e.channel === news), WAIT_MS);
      break;
    } catch (err) {
      if (Date.now() > probeDeadline) throw err;
      bob.unsubscribe(news);
    }
  }
  await subscribe(alice, room);
  const chatA = await subscribe(alice, chat);
  await subscribe(bob, chat);
  assert.equal(chatA.trigger('client-typing', { who: 'alice' }), true);
  await subscribe(bob, cache);
  alice.disconnect();

  await until('every kind', (evs) => kinds.every((k) => evs.some((e) => e.name === k)), ALL_KINDS_MS);
  for (const q of r.requests) {
    const hook = sdk.webhook(q);
    assert.equal(hook.isContentTypeValid(), true);
    assert.equal(hook.isValid(), true, `refused: ${q.rawBody}`);
  }
  const evs = events();
  const find = (name, channel) => evs.find((e) => e.name === name && e.channel === channel);
  assert.ok(find('member_added', room)?.user_id === 'alice');
  assert.ok(find('member_removed', room)?.user_id === 'alice');
  assert.ok(find('channel_vacated', room));
  const typed = find('client_event', chat);
  assert.equal(typed.event, 'client-typing');
  assert.deepEqual(JSON.parse(typed.data), { who: 'alice' });
  assert.ok(find('cache_miss', cache));
  assert.ok(evs.some((e) => e.name === 'subscription_count' && e.channel === news && e.subscription_count >= 1));
});
