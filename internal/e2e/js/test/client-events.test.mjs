// Client events (`channel.trigger('client-…')`) between pusher-js clients.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  pusherErrorCode,
  recordFrames,
  rest,
  subscribe,
  uniqueName,
  waitFor,
} from '../lib/clients.mjs';

/**
 * Two clients on one channel; a sends a client event, b answers it. The
 * answer, sent after b received a's event, reaches a after any echo of a's
 * own event would have (one channel, in order), so a's frames then show
 * whether it got its own event back.
 */
async function exchange(t, name, presenceA, presenceB) {
  const [a, b] = await Promise.all([
    connectClient({ t, presence: presenceA }),
    connectClient({ t, presence: presenceB }),
  ]);
  const [chA, chB] = await Promise.all([subscribe(a, name), subscribe(b, name)]);
  const aFrames = recordFrames(a);
  const atB = waitFor(chB, 'client-typing', { what: "a's client event at b" });
  assert.equal(chA.trigger('client-typing', { who: 'a', text: 'hello' }), true);
  const received = await atB;
  const answer = waitFor(chA, 'client-ack', { what: "b's answer at a" });
  chB.trigger('client-ack', { ok: true });
  const answered = await answer;
  return { received, answered, aFrames };
}

test('private channel: another client receives it, the sender does not', async (t) => {
  const { received, answered, aFrames } = await exchange(t, uniqueName('private-whisper'));
  assert.deepEqual(received.data, { who: 'a', text: 'hello' });
  assert.equal(received.metadata.user_id, undefined, 'no user_id outside presence');
  assert.deepEqual(answered.data, { ok: true });
  assert.deepEqual(aFrames.filter((f) => f.event === 'client-typing'), [], 'the sender got its own event back');
});

test('presence channel: the event carries the sender user_id', async (t) => {
  const { received, answered, aFrames } = await exchange(
    t,
    uniqueName('presence-whisper'),
    { user_id: 'user-a', user_info: { name: 'A' } },
    { user_id: 'user-b', user_info: { name: 'B' } },
  );
  assert.deepEqual(received.data, { who: 'a', text: 'hello' });
  assert.equal(received.metadata.user_id, 'user-a');
  assert.equal(answered.metadata.user_id, 'user-b');
  assert.deepEqual(aFrames.filter((f) => f.event === 'client-typing'), []);
});

test('public channel: refused with pusher:error 4009, connection kept, nothing delivered', async (t) => {
  const [a, b] = await Promise.all([connectClient({ t }), connectClient({ t })]);
  const name = uniqueName('public-nowhisper');
  const [chA, chB] = await Promise.all([subscribe(a, name), subscribe(b, name)]);
  const bFrames = recordFrames(b);
  // pusher-js itself lets it through (it checks only the client- prefix);
  // the server answers with a non-fatal pusher:error.
  const refused = waitFor(a.connection, 'error', { what: 'the pusher:error' });
  assert.equal(chA.trigger('client-typing', { nope: true }), true);
  const { data: err } = await refused;
  assert.equal(err.type, 'PusherError');
  assert.equal(pusherErrorCode(err), 4009, JSON.stringify(err));
  assert.equal(a.connection.state, 'connected');

  // a can still send client events on a private channel b also joined.
  const shared = uniqueName('private-probe');
  const [pA, pB] = await Promise.all([subscribe(a, shared), subscribe(b, shared)]);
  const probe = waitFor(pB, 'client-probe');
  pA.trigger('client-probe', {});
  await probe;
  // Nothing reached b. Channels are not ordered with each other, so the
  // probe proves nothing about the public channel: a wrongly published copy
  // of the refused event would have been stored before a's later frames
  // were handled, so it would reach b before a REST event published now on
  // that same channel.
  const marker = waitFor(chB, 'marker', { what: 'the marker on the public channel' });
  await rest.trigger(name, 'marker', {});
  await marker;
  assert.deepEqual(bFrames.filter((f) => f.event === 'client-typing'), []);
  assert.ok(chB.subscribed);
});
