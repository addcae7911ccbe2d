// The HTTP API through the `pusher` server SDK: trigger with info, batches,
// channel queries, sendToUser and terminateUserConnections.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  recordFrames,
  rest,
  signIn,
  subscribe,
  uniqueName,
  waitFor,
  waitForFrame,
} from '../lib/clients.mjs';

function member(id) {
  return { user_id: id, user_info: { name: id.toUpperCase() } };
}

/**
 * A presence channel with alice on two connections and bob on one, and a
 * public channel with one subscriber, all named under a fresh prefix so
 * that other test files' channels never show up in the listings.
 */
async function occupy(t) {
  // The trailing '-' keeps presence-rest-1- from matching presence-rest-12-.
  const prefix = `${uniqueName('presence-rest')}-`;
  const room = `${prefix}room`;
  const news = uniqueName('rest-news');
  const alice1 = await connectClient({ t, presence: member('alice') });
  const alice2 = await connectClient({ t, presence: member('alice') });
  const bob = await connectClient({ t, presence: member('bob') });
  for (const c of [alice1, alice2, bob]) {
    await subscribe(c, room);
  }
  await subscribe(bob, news);
  return { prefix, room, news, alice1, bob };
}

test('trigger with info: subscription counts, and distinct presence users', async (t) => {
  const { room, news, alice1, bob } = await occupy(t);
  const got = waitFor(alice1.channel(room), 'counted', { what: 'the event' });
  const res = await rest.trigger([room, news], 'counted', { n: 1 }, { info: 'user_count,subscription_count' });
  const body = await res.json();
  assert.deepEqual(body.channels, {
    [room]: { user_count: 2, subscription_count: 3 },
    [news]: { subscription_count: 1 },
  });
  assert.equal(typeof body.serials[room], 'number');
  assert.deepEqual((await got).data, { n: 1 });
  assert.equal(bob.connection.state, 'connected');
});

test('triggerBatch: the answer is an array in request order, info per item', async (t) => {
  const { room, news, bob } = await occupy(t);
  const quiet = uniqueName('rest-quiet');
  const last = waitFor(bob.channel(news), 'b3', { what: 'the last batch event' });
  const res = await rest.triggerBatch([
    { channel: room, name: 'b1', data: { i: 1 }, info: 'user_count' },
    { channel: quiet, name: 'b2', data: 'two' },
    { channel: news, name: 'b3', data: 'three', info: 'subscription_count' },
  ]);
  const body = await res.json();
  assert.equal(body.batch.length, 3);
  assert.equal(body.batch[0].user_count, 2);
  assert.equal(body.batch[0].subscription_count, undefined);
  assert.equal(body.batch[1].user_count, undefined);
  assert.equal(body.batch[2].subscription_count, 1);
  for (const item of body.batch) {
    assert.equal(Object.keys(item.serials).length, 1);
  }
  assert.equal((await last).data, 'three');
});

test('get channels, one channel and its users', async (t) => {
  const { prefix, room, news } = await occupy(t);
  const get = async (path, params) => (await rest.get({ path, params })).json();

  const all = await get('/channels');
  assert.ok(all.channels[room] && all.channels[news], JSON.stringify(all));

  const mine = await get('/channels', { filter_by_prefix: prefix, info: 'user_count' });
  assert.deepEqual(mine, { channels: { [room]: { user_count: 2 } } });

  const none = await get('/channels', { filter_by_prefix: uniqueName('presence-none') });
  assert.deepEqual(none, { channels: {} });

  const info = await get(`/channels/${room}`, { info: 'user_count,subscription_count' });
  assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 });
  assert.deepEqual(await get(`/channels/${uniqueName('empty')}`), { occupied: false });

  const users = await get(`/channels/${room}/users`);
  assert.deepEqual(users, { users: [{ id: 'alice' }, { id: 'bob' }] });

  for (const [path, params] of [
    ['/channels', { info: 'user_count' }],
    [`/channels/${news}`, { info: 'user_count' }],
    [`/channels/${news}/users`, undefined],
  ]) {
    await assert.rejects(rest.get({ path, params }), (err) => {
      assert.equal(err.status, 400, `${path}: ${err.body}`);
      assert.ok(JSON.parse(err.body).error.message);
      return true;
    });
  }
});

/** faye-websocket's readyState of a closed socket. */
const WS_CLOSED = 3;

/**
 * pusher-js answers a 40xx close by closing its socket again, and in Node
 * (faye-websocket) closing an already closed socket arms a 30 s timer that
 * keeps the test process alive. Browsers have no such timer; this makes
 * the second close a no-op for client's current socket.
 * @param {import('pusher-js').default} client
 */
function closeOnce(client) {
  const socket = client.connection.connection?.transport?.socket;
  if (!socket) {
    return;
  }
  const close = socket.close.bind(socket);
  socket.close = (...args) => (socket.readyState === WS_CLOSED ? undefined : close(...args));
}

test("sendToUser, then terminateUserConnections closes that user's connections only", async (t) => {
  const id = uniqueName('rest-user');
  const first = await connectClient({ t, user: { id } });
  const second = await connectClient({ t, user: { id } });
  const other = await connectClient({ t, user: { id: uniqueName('rest-other') } });
  await Promise.all([signIn(first), signIn(second), signIn(other)]);
  closeOnce(first);
  closeOnce(second);

  const got = waitFor(second.user, 'notice', { what: 'the user event' });
  await rest.sendToUser(id, 'notice', { text: 'bye soon' });
  assert.deepEqual((await got).data, { text: 'bye soon' });

  const closed = [first, second].map((c) =>
    waitForFrame(c, (m) => m.event === 'pusher:error' && m.data?.code === 4009, 'pusher:error 4009'),
  );
  const res = await rest.terminateUserConnections(id);
  assert.deepEqual(await res.json(), {});
  await Promise.all(closed);
  for (const c of [first, second]) {
    if (c.connection.state === 'connected') {
      await waitFor(c.connection, 'state_change', {
        filter: ({ current }) => current !== 'connected',
        what: 'the terminated connection to close',
      });
    }
  }
  // The other user is still there and still reachable.
  const otherFrames = recordFrames(other);
  const ping = waitFor(other.user, 'notice', { what: "the other user's event" });
  await rest.sendToUser(other.user.user_data.id, 'notice', 'still here');
  assert.equal((await ping).data, 'still here');
  assert.equal(other.connection.state, 'connected');
  assert.ok(!otherFrames.some((f) => f.event === 'pusher:error'));
});
