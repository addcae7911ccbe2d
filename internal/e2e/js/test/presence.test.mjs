// Presence channels: the member list, me, joins and leaves, and one user on
// several connections.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  recordFrames,
  restClient,
  roundTrip,
  subscribe,
  uniqueName,
  waitFor,
} from '../lib/clients.mjs';
import { APP } from '../lib/herald.mjs';

function member(id, name) {
  return { user_id: id, user_info: { name } };
}

function memberIds(channel) {
  const ids = [];
  channel.members.each((m) => ids.push(m.id));
  return ids.sort();
}

test('presence: count, me, member_added and member_removed', async (t) => {
  const name = uniqueName('presence-room');
  const alice = await connectClient({ t, presence: member('alice', 'Alice') });
  const aliceCh = await subscribe(alice, name);
  assert.equal(aliceCh.members.count, 1);
  assert.deepEqual(aliceCh.members.me, { id: 'alice', info: { name: 'Alice' } });

  const added = waitFor(aliceCh, 'pusher:member_added', { what: "bob's member_added" });
  const bob = await connectClient({ t, presence: member('bob', 'Bob') });
  const bobCh = await subscribe(bob, name);
  assert.equal(bobCh.members.count, 2);
  assert.deepEqual(bobCh.members.me, { id: 'bob', info: { name: 'Bob' } });
  assert.deepEqual(bobCh.members.get('alice'), { id: 'alice', info: { name: 'Alice' } });
  assert.deepEqual((await added).data, { id: 'bob', info: { name: 'Bob' } });
  assert.equal(aliceCh.members.count, 2);
  assert.deepEqual(memberIds(aliceCh), ['alice', 'bob']);

  const removed = waitFor(aliceCh, 'pusher:member_removed', { what: "bob's member_removed" });
  bob.unsubscribe(name);
  assert.deepEqual((await removed).data, { id: 'bob', info: { name: 'Bob' } });
  assert.equal(aliceCh.members.count, 1);
});

test('presence: a repeated subscribe is answered with the roster, which pusher-js reads', async (t) => {
  const name = uniqueName('presence-again');
  const alice = await connectClient({ t, presence: member('alice', 'Alice') });
  const aliceCh = await subscribe(alice, name);
  const added = waitFor(aliceCh, 'pusher:member_added', { what: "bob's member_added" });
  const bob = await connectClient({ t, presence: member('bob', 'Bob') });
  await subscribe(bob, name);
  await added;

  // pusher-js never repeats a subscribe itself; other clients do. pusher-js
  // reads the roster from every subscription_succeeded (and throws on {}).
  const auth = await new Promise((resolve, reject) => {
    aliceCh.authorize(alice.connection.socket_id, (err, data) => (err ? reject(err) : resolve(data)));
  });
  const again = waitFor(aliceCh, 'pusher:subscription_succeeded', { what: 'the second subscription_succeeded' });
  alice.send_event('pusher:subscribe', { channel: name, auth: auth.auth, channel_data: auth.channel_data });
  await again;
  assert.equal(aliceCh.members.count, 2);
  assert.deepEqual(memberIds(aliceCh), ['alice', 'bob']);
  assert.deepEqual(aliceCh.members.me, { id: 'alice', info: { name: 'Alice' } });
});

test('presence: a numeric user_id (as Laravel signs it) comes back as a string', async (t) => {
  const name = uniqueName('presence-numeric');
  const a = await connectClient({ t, presence: { user_id: 42, user_info: {} } });
  const frames = recordFrames(a);
  const ch = await subscribe(a, name);
  assert.equal(ch.members.count, 1);
  assert.ok(ch.members.me, 'pusher-js found itself in the roster');
  const ok = frames.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.deepEqual(ok.data.presence.ids, ['42']);
  assert.deepEqual(Object.keys(ok.data.presence.hash), ['42']);
});

test('presence: the same user on two connections counts once and leaves with the last', async (t) => {
  const name = uniqueName('presence-dup');
  const alice = await connectClient({ t, presence: member('alice', 'Alice') });
  const aliceCh = await subscribe(alice, name);
  const events = [];
  aliceCh.bind('pusher:member_added', (m) => events.push(`+${m.id}`));
  aliceCh.bind('pusher:member_removed', (m) => events.push(`-${m.id}`));

  const bob1 = await connectClient({ t, presence: member('bob', 'Bob') });
  const bobAdded = waitFor(aliceCh, 'pusher:member_added', { what: 'bob joining' });
  await subscribe(bob1, name);
  await bobAdded;

  const bob2 = await connectClient({ t, presence: member('bob', 'Bob') });
  const bob2Ch = await subscribe(bob2, name);
  assert.equal(bob2Ch.members.count, 2, 'bob twice is one member');
  assert.deepEqual(memberIds(bob2Ch), ['alice', 'bob']);

  // Presence changes reach alice in order: carol's join, which comes after
  // bob's second connection joined, proves no second member_added for bob.
  const carol = await connectClient({ t, presence: member('carol', 'Carol') });
  const carolAdded = waitFor(aliceCh, 'pusher:member_added', { filter: (m) => m.id === 'carol', what: 'carol joining' });
  await subscribe(carol, name);
  await carolAdded;
  assert.deepEqual(events, ['+bob', '+carol']);
  assert.equal(aliceCh.members.count, 3);

  // Bob's first connection leaves (the server has handled it once it
  // answers the next ping); bob is still there on the second. Carol leaves
  // after that, so her member_removed comes after anything bob's departure
  // caused.
  bob1.unsubscribe(name);
  await roundTrip(bob1);
  const carolRemoved = waitFor(aliceCh, 'pusher:member_removed', { filter: (m) => m.id === 'carol', what: 'carol leaving' });
  carol.unsubscribe(name);
  await carolRemoved;
  assert.deepEqual(events, ['+bob', '+carol', '-carol'], 'bob left with one of two connections');
  assert.deepEqual(memberIds(aliceCh), ['alice', 'bob']);

  const bobRemoved = waitFor(aliceCh, 'pusher:member_removed', { filter: (m) => m.id === 'bob', what: 'bob leaving' });
  // The last connection goes away altogether.
  bob2.disconnect();
  await bobRemoved;
  assert.deepEqual(events, ['+bob', '+carol', '-carol', '-bob']);
  assert.deepEqual(memberIds(aliceCh), ['alice']);
});

test('presence: a bad signature gives subscription_error with status 401', async (t) => {
  const wrong = restClient({ ...APP, secret: 'not-the-secret' });
  const client = await connectClient({ t, signer: wrong, presence: member('mallory', 'Mallory') });
  await assert.rejects(subscribe(client, uniqueName('presence-room')), (err) => err.status === 401);
});
