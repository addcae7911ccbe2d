// Laravel Echo (broadcaster "pusher") on pusher-js, as a Laravel front end
// uses it, with an `authorizer` that signs through the `pusher` SDK.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import Echo from 'laravel-echo';
import Pusher from 'pusher-js';

import { clientOptions, rest, uniqueName, untilConnected, WAIT_MS } from '../lib/clients.mjs';
import { APP } from '../lib/herald.mjs';

/**
 * A connected Echo. presence is this user's {user_id, user_info} for
 * presence channels. The authorizer is Echo's documented hook: it gets the
 * pusher-js channel and answers authorize(socketId, callback).
 */
async function newEcho(t, presence) {
  // Echo gets the legacy `authorizer` option instead of channelAuthorization
  // (pusher-js ignores `authorizer` when channelAuthorization is present).
  const { channelAuthorization: _unused, ...pusherOptions } = clientOptions();
  const echo = new Echo({
    broadcaster: 'pusher',
    key: APP.key,
    Pusher,
    ...pusherOptions,
    authorizer: (channel) => ({
      authorize: (socketId, callback) => {
        try {
          const auth = channel.name.startsWith('presence-')
            ? rest.authorizeChannel(socketId, channel.name, presence)
            : rest.authorizeChannel(socketId, channel.name);
          setImmediate(() => callback(null, auth));
        } catch (err) {
          setImmediate(() => callback(err, null));
        }
      },
    }),
  });
  t.after(() => echo.disconnect());
  await untilConnected(echo.connector.pusher);
  return echo;
}

/** Resolves with the first call of an Echo callback-taking method. */
function nextCall(register, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
    let fired = false;
    register((value) => {
      if (!fired) {
        fired = true;
        clearTimeout(timer);
        resolve(value);
      }
    });
  });
}

/** Resolves once an Echo channel is subscribed; rejects on its error. */
function echoSubscribed(channel, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no subscription for ${what} after ${WAIT_MS} ms`)), WAIT_MS);
    channel.subscribed(() => {
      clearTimeout(timer);
      resolve(channel);
    });
    channel.error((err) => {
      clearTimeout(timer);
      reject(new Error(`${what} refused: ${JSON.stringify(err)}`));
    });
  });
}

test('Echo.channel().listen(): raw and namespaced event names', async (t) => {
  const echo = await newEcho(t);
  const name = uniqueName('orders');
  const channel = echo.channel(name);
  await echoSubscribed(channel, name);
  // A leading dot means the raw event name; otherwise Echo prefixes the
  // namespace App.Events, written with backslashes as Laravel broadcasts it.
  const raw = nextCall((cb) => channel.listen('.order-shipped', cb), 'the raw-named event');
  const namespaced = nextCall((cb) => channel.listen('OrderShipped', cb), 'the namespaced event');
  await rest.trigger(name, 'order-shipped', { id: 1 });
  await rest.trigger(name, 'App\\Events\\OrderShipped', { order: { id: 2 } });
  assert.deepEqual(await raw, { id: 1 });
  assert.deepEqual(await namespaced, { order: { id: 2 } });
});

test('Echo.private().listen()', async (t) => {
  const echo = await newEcho(t);
  const name = uniqueName('orders');
  const channel = echo.private(name);
  await echoSubscribed(channel, `private-${name}`);
  const got = nextCall((cb) => channel.listen('.status', cb), 'the private event');
  await rest.trigger(`private-${name}`, 'status', { state: 'paid' });
  assert.deepEqual(await got, { state: 'paid' });
});

test('Echo.join(): here, joining, leaving', async (t) => {
  const room = uniqueName('room');
  const alice = await newEcho(t, { user_id: 'alice', user_info: { name: 'Alice' } });
  const aliceRoom = alice.join(room);
  const aliceHere = nextCall((cb) => aliceRoom.here(cb), "alice's here");
  const joining = nextCall((cb) => aliceRoom.joining(cb), 'joining');
  const leaving = nextCall((cb) => aliceRoom.leaving(cb), 'leaving');
  assert.deepEqual(await aliceHere, [{ name: 'Alice' }]);

  const bob = await newEcho(t, { user_id: 'bob', user_info: { name: 'Bob' } });
  const bobHere = nextCall((cb) => bob.join(room).here(cb), "bob's here");
  const here = await bobHere;
  assert.deepEqual(
    here.map((u) => u.name).sort(),
    ['Alice', 'Bob'],
  );
  assert.deepEqual(await joining, { name: 'Bob' });

  bob.leave(room);
  assert.deepEqual(await leaving, { name: 'Bob' });
});

test('whisper() reaches listenForWhisper() on the other side, not the sender', async (t) => {
  const name = uniqueName('chat');
  const [a, b] = await Promise.all([newEcho(t), newEcho(t)]);
  const chA = a.private(name);
  const chB = b.private(name);
  await Promise.all([echoSubscribed(chA, 'a'), echoSubscribed(chB, 'b')]);
  let echoed = 0;
  chA.listenForWhisper('typing', () => {
    echoed += 1;
  });
  const atB = nextCall((cb) => chB.listenForWhisper('typing', cb), 'the whisper at b');
  chA.whisper('typing', { name: 'A' });
  assert.deepEqual(await atB, { name: 'A' });
  // b answers; the answer comes after any echo of a's own whisper would have.
  const answer = nextCall((cb) => chA.listenForWhisper('seen', cb), "b's answer at a");
  chB.whisper('seen', { by: 'B' });
  assert.deepEqual(await answer, { by: 'B' });
  assert.equal(echoed, 0, "a received its own whisper");
});

test('whisper() on a presence channel carries the user_id to pusher-js', async (t) => {
  const room = uniqueName('room');
  const a = await newEcho(t, { user_id: 'whisperer', user_info: {} });
  const b = await newEcho(t, { user_id: 'listener', user_info: {} });
  const roomA = a.join(room);
  const roomB = b.join(room);
  await Promise.all([echoSubscribed(roomA, 'a'), echoSubscribed(roomB, 'b')]);
  // Echo drops pusher-js's second callback argument, so read the metadata
  // from the pusher-js channel underneath.
  const meta = nextCall(
    (cb) => b.connector.pusher.channel(`presence-${room}`).bind('client-typing', (_data, m) => cb(m)),
    'the whisper metadata',
  );
  roomA.whisper('typing', { on: true });
  assert.equal((await meta).user_id, 'whisperer');
});
