// Public channels: REST publishing through the `pusher` SDK to pusher-js
// subscribers, exclusion by socket_id, and unsubscribing.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  recordFrames,
  rest,
  roundTrip,
  subscribe,
  subscribed,
  uniqueName,
  waitFor,
  waitForFrame,
} from '../lib/clients.mjs';

test('a REST trigger reaches the subscriber with the exact data', async (t) => {
  const client = await connectClient({ t });
  const channel = await subscribe(client, uniqueName('public'));
  const cases = [
    { name: 'object', data: { text: 'héllo ✓', n: 42, nested: { list: [1, 'two', null], ok: true } } },
    { name: 'string', data: 'just a string' },
    { name: 'JSON-looking string', data: '{"a":1}' },
    { name: 'empty object', data: {} },
  ];
  for (const c of cases) {
    const got = waitFor(channel, `ev-${cases.indexOf(c)}`, { what: c.name });
    await rest.trigger(channel.name, `ev-${cases.indexOf(c)}`, c.data);
    const { data, metadata } = await got;
    // pusher-js JSON-parses the data string it receives, so a string that
    // is itself JSON arrives parsed, exactly as with Pusher.
    const want = c.name === 'JSON-looking string' ? JSON.parse(c.data) : c.data;
    assert.deepEqual(data, want, c.name);
    assert.equal(metadata.user_id, undefined, 'a REST event has no user_id');
  }
});

test('one trigger to several channels reaches each of them', async (t) => {
  const client = await connectClient({ t });
  const names = [uniqueName('multi-a'), uniqueName('multi-b'), uniqueName('multi-c')];
  const chans = await Promise.all(names.map((n) => subscribe(client, n)));
  const got = chans.map((c) => waitFor(c, 'fanned-out', { what: `the event on ${c.name}` }));
  await rest.trigger(names, 'fanned-out', { to: 'all' });
  for (const { data } of await Promise.all(got)) {
    assert.deepEqual(data, { to: 'all' });
  }
});

test('socket_id excludes that connection only', async (t) => {
  const [sender, other] = await Promise.all([connectClient({ t }), connectClient({ t })]);
  const name = uniqueName('exclude');
  const [senderCh, otherCh] = await Promise.all([subscribe(sender, name), subscribe(other, name)]);
  const senderFrames = recordFrames(sender);

  const otherGot = waitFor(otherCh, 'excluded', { what: 'the excluded event at the other client' });
  const senderMarker = waitFor(senderCh, 'marker', { what: 'the marker at the sender' });
  await rest.trigger(name, 'excluded', { n: 1 }, { socket_id: sender.connection.socket_id });
  assert.deepEqual((await otherGot).data, { n: 1 });
  // Events on one channel arrive in order: once the sender has the marker
  // published after the excluded event, the excluded one can no longer come.
  await rest.trigger(name, 'marker', {});
  await senderMarker;
  assert.deepEqual(
    senderFrames.filter((f) => f.event === 'excluded'),
    [],
    'the excluded connection received the event',
  );
});

test('unsubscribe stops delivery; subscribe, unsubscribe, subscribe works', async (t) => {
  const [client, watcher] = await Promise.all([connectClient({ t }), connectClient({ t })]);
  const name = uniqueName('unsub');
  await subscribe(client, name);
  const watched = await subscribe(watcher, name);
  const frames = recordFrames(client);

  client.unsubscribe(name);
  await roundTrip(client);
  const watcherGot = waitFor(watched, 'while-away', { what: 'the event at the watcher' });
  await rest.trigger(name, 'while-away', { n: 1 });
  await watcherGot;

  // Subscribe again, then publish a second event: it must arrive, and the
  // first (published while unsubscribed, earlier on the same channel) must
  // not have reached the connection at all.
  const again = await subscribe(client, name);
  const back = waitFor(again, 'back', { what: 'the event after resubscribing' });
  await rest.trigger(name, 'back', { n: 2 });
  assert.deepEqual((await back).data, { n: 2 });
  assert.deepEqual(frames.filter((f) => f.event === 'while-away'), []);
});

test('unsubscribe twice is harmless', async (t) => {
  const client = await connectClient({ t });
  const name = uniqueName('unsub-twice');
  await subscribe(client, name);
  const frames = recordFrames(client);
  client.unsubscribe(name);
  // pusher-js sends nothing for a channel it no longer has, so send the
  // second unsubscribe (and one for a channel never joined) as raw frames.
  client.send_event('pusher:unsubscribe', { channel: name });
  client.send_event('pusher:unsubscribe', { channel: uniqueName('never-joined') });
  // Frames are answered in order: by the time this subscribe succeeds, any
  // error about the unsubscribes would have arrived.
  const other = await subscribe(client, uniqueName('after-unsub'));
  assert.ok(other.subscribed);
  assert.deepEqual(frames.filter((f) => f.event === 'pusher:error'), []);
  assert.equal(client.connection.state, 'connected');

  // The channel can be joined again and delivers.
  const ch = await subscribe(client, name);
  const got = waitFor(ch, 'again');
  await rest.trigger(name, 'again', 'yes');
  assert.equal((await got).data, 'yes');
});

test('a subscribe cancelled and reinstated while pending ends subscribed', async (t) => {
  const client = await connectClient({ t });
  const name = uniqueName('pending');
  // All three in one turn: pusher-js cancels the pending subscription, then
  // reinstates it, without waiting for the server's answer.
  client.subscribe(name);
  client.unsubscribe(name);
  const channel = client.subscribe(name);
  await subscribed(channel);
  const got = waitFor(channel, 'reinstated');
  await rest.trigger(name, 'reinstated', { ok: 1 });
  assert.deepEqual((await got).data, { ok: 1 });
});

test('a subscribe cancelled while pending is undone once the server answers', async (t) => {
  const client = await connectClient({ t });
  const name = uniqueName('cancelled');
  const frames = recordFrames(client);
  client.subscribe(name);
  client.unsubscribe(name);
  // pusher-js sends pusher:unsubscribe when the late subscription_succeeded
  // arrives; the channel is then gone from the client.
  await waitForFrame(
    client,
    (m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === name,
    'the late subscription_succeeded',
  );
  assert.equal(client.channel(name), undefined);
  // A later publish must not reach the connection. The watcher receives it.
  // Channels are not ordered with each other, so a probe on another channel
  // proves nothing by itself: first a second event on the same channel
  // reaches the watcher, which the gateway fans out only after it has
  // queued after-cancel for every local subscriber of the channel; the
  // probe published then reaches the client behind anything so queued.
  const probe = await subscribe(client, uniqueName('probe'));
  const w = await connectClient({ t });
  const watched = await subscribe(w, name);
  const watcherGot = waitFor(watched, 'after-cancel');
  await rest.trigger(name, 'after-cancel', {});
  await watcherGot;
  const drained = waitFor(watched, 'drain');
  await rest.trigger(name, 'drain', {});
  await drained;
  const probeGot = waitFor(probe, 'probe');
  await rest.trigger(probe.name, 'probe', {});
  await probeGot;
  assert.deepEqual(frames.filter((f) => f.event === 'after-cancel'), []);
});
