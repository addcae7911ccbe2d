// Cache channels, and user sign-in with the SDK's sendToUser.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  recordFrames,
  rest,
  roundTrip,
  signIn,
  subscribed,
  uniqueName,
  waitFor,
  waitForFrame,
} from '../lib/clients.mjs';

test('cache channel: pusher:cache_miss first, then the cached event for a late subscriber', async (t) => {
  const name = uniqueName('cache-scores');
  const first = await connectClient({ t });
  const firstCh = first.subscribe(name);
  const miss = waitFor(firstCh, 'pusher:cache_miss', { what: 'pusher:cache_miss' });
  await subscribed(firstCh);
  await miss;

  const live = waitFor(firstCh, 'score', { what: 'the live event' });
  await rest.trigger(name, 'score', { home: 2, away: 1 });
  assert.deepEqual((await live).data, { home: 2, away: 1 });

  const late = await connectClient({ t });
  const frames = recordFrames(late);
  const lateCh = late.subscribe(name);
  const cached = waitFor(lateCh, 'score', { what: 'the cached event' });
  await subscribed(lateCh);
  assert.deepEqual((await cached).data, { home: 2, away: 1 });
  // The replay comes right after subscription_succeeded, and no cache_miss.
  const order = frames.filter((f) => f.channel === name).map((f) => f.event);
  assert.deepEqual(order, ['pusher_internal:subscription_succeeded', 'score']);
});

test('private cache channel: an event cached before anyone joined reaches an authorised subscriber', async (t) => {
  const name = uniqueName('private-cache-state');
  await rest.trigger(name, 'state', 'cached-before-anyone-joined');
  const client = await connectClient({ t });
  const ch = client.subscribe(name);
  const cached = waitFor(ch, 'state', { what: 'the cached event' });
  await subscribed(ch);
  assert.equal((await cached).data, 'cached-before-anyone-joined');
});

test('user sign-in, then sendToUser reaches that user only', async (t) => {
  const alice = await connectClient({ t, user: { id: 'alice-1', name: 'Alice' } });
  const aliceFrames = recordFrames(alice);
  const bob = await connectClient({ t, user: { id: 'bob-1', name: 'Bob' } });
  const bobFrames = recordFrames(bob);
  await Promise.all([signIn(alice), signIn(bob)]);
  assert.equal(alice.user.user_data.id, 'alice-1');
  assert.equal(alice.user.serverToUserChannel.name, '#server-to-user-alice-1');
  assert.ok(aliceFrames.some((f) => f.event === 'pusher:signin_success'));

  const got = waitFor(alice.user, 'notice', { what: "alice's user event" });
  await rest.sendToUser('alice-1', 'notice', { text: 'just for you' });
  assert.deepEqual((await got).data, { text: 'just for you' });

  // Channels are not ordered with each other, so bob's own event, on his
  // channel, proves nothing by itself about alice's. A second event on
  // alice's channel reaches her only after the gateway has queued the
  // first for every local subscriber of that channel; bob's, sent then,
  // reaches him behind anything so queued. Alice's never showed up on his
  // connection.
  const again = waitFor(alice.user, 'notice', { what: "alice's second user event" });
  await rest.sendToUser('alice-1', 'notice', { text: 'again' });
  assert.deepEqual((await again).data, { text: 'again' });
  const bobGot = waitFor(bob.user, 'notice', { what: "bob's user event" });
  await rest.sendToUser('bob-1', 'notice', { text: 'for bob' });
  assert.deepEqual((await bobGot).data, { text: 'for bob' });
  assert.deepEqual(
    bobFrames.filter((f) => f.channel === '#server-to-user-alice-1'),
    [],
    "bob received alice's user event",
  );
});

test("a connection cannot subscribe to another user's #server-to-user channel", async (t) => {
  const bob = await connectClient({ t, user: { id: 'bob-2' } });
  await signIn(bob);
  // pusher-js refuses such names in subscribe(), so send the raw frame.
  const refused = waitForFrame(
    bob,
    (m) => m.event === 'pusher:subscription_error' && m.channel === '#server-to-user-alice-2',
    'the subscription_error',
  );
  bob.send_event('pusher:subscribe', { auth: '', channel: '#server-to-user-alice-2' });
  const frame = await refused;
  assert.equal(frame.data.status, 403, JSON.stringify(frame.data));
  await roundTrip(bob);
  assert.equal(bob.connection.state, 'connected');
});
