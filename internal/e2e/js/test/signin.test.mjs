// User sign-in edge cases: a numeric id (as Laravel signs it), and what is
// sent to the user between signin_success and the client's own subscribe
// to its #server-to-user channel.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import Pusher from 'pusher-js';

import {
  clientOptions,
  connectClient,
  recordFrames,
  rest,
  roundTrip,
  subscribed,
  uniqueName,
  untilConnected,
  waitFor,
  waitForFrame,
} from '../lib/clients.mjs';
import { APP } from '../lib/herald.mjs';

/**
 * A pusher-js client whose backend answers sign-in with userData (a JSON
 * string) as is. The `pusher` SDK's authenticateUser refuses ids that are
 * not strings, so this signs as a Laravel backend does:
 * HMAC-SHA256(secret, "<socket_id>::user::<user_data>").
 */
async function connectSigningUserData(t, userData) {
  const client = new Pusher(APP.key, {
    ...clientOptions(),
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        const sig = createHmac('sha256', APP.secret).update(`${socketId}::user::${userData}`).digest('hex');
        setImmediate(() => callback(null, { auth: `${APP.key}:${sig}`, user_data: userData }));
      },
    },
  });
  t.after(() => client.disconnect());
  await untilConnected(client);
  return client;
}

test('sign-in with a numeric id {"id":1} succeeds, and sendToUser("1") reaches the connection', async (t) => {
  const userData = JSON.stringify({ id: 1, name: 'Laravel user' });
  const client = await connectSigningUserData(t, userData);
  const frames = recordFrames(client);
  const success = waitForFrame(client, (m) => m.event === 'pusher:signin_success', 'pusher:signin_success');
  client.signin(); // after the connection, as pusher-js documents it
  // The server echoes user_data exactly as signed.
  assert.equal((await success).data.user_data, userData);

  // pusher-js 8 itself only takes string ids (it logs "user_data doesn't
  // contain an id" and never subscribes to #server-to-user-1), so the
  // user's events reach the connection only because the sign-in joined it
  // to its user channel.
  const channel = '#server-to-user-1';
  const got = waitForFrame(client, (m) => m.channel === channel && m.event === 'notice', 'the user event');
  await rest.sendToUser('1', 'notice', { text: 'for user 1' });
  assert.deepEqual((await got).data, { text: 'for user 1' });
  await roundTrip(client);
  assert.equal(client.connection.state, 'connected');
  assert.deepEqual(
    frames.filter((f) => f.event === 'pusher:error'),
    [],
    'the sign-in was refused',
  );
});

/**
 * Holds back pusher-js's pusher:subscribe to a #server-to-user channel
 * until the returned function is called: the window between
 * signin_success and that subscribe, which is a network round trip in
 * real life, made as long as the test needs.
 * @param {Pusher} client
 */
function holdUserChannelSubscribe(client) {
  const send = client.send_event.bind(client);
  const held = [];
  let holding = true;
  client.send_event = (event, data, channel) => {
    if (holding && event === 'pusher:subscribe' && data?.channel?.startsWith('#server-to-user-')) {
      held.push([event, data, channel]);
      return true;
    }
    return send(event, data, channel);
  };
  return () => {
    holding = false;
    for (const args of held.splice(0)) {
      send(...args);
    }
  };
}

test('an event sent to the user right after signin_success is delivered before the client subscribes', async (t) => {
  const id = uniqueName('early-user');
  const channel = `#server-to-user-${id}`;
  const client = await connectClient({ t, user: { id } });
  const release = holdUserChannelSubscribe(client);
  const frames = recordFrames(client);
  const success = waitForFrame(client, (m) => m.event === 'pusher:signin_success', 'pusher:signin_success');
  client.signin();
  await success;

  const early = waitFor(client.user, 'notice', { what: 'the event sent right after signin_success' });
  await rest.sendToUser(id, 'notice', { n: 1 });
  assert.deepEqual((await early).data, { n: 1 });
  assert.ok(!client.user.serverToUserChannel.subscribed, 'the subscribe was not held back');

  // The client's own subscribe, late, is confirmed; nothing is doubled.
  release();
  await subscribed(client.user.serverToUserChannel);
  for (const n of [2, 3]) {
    const next = waitFor(client.user, 'notice', { what: `user event ${n}` });
    await rest.sendToUser(id, 'notice', { n });
    assert.deepEqual((await next).data, { n });
  }
  assert.deepEqual(
    frames.filter((f) => f.channel === channel && f.event === 'notice').map((f) => f.data.n),
    [1, 2, 3],
  );
});
