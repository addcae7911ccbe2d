// Connecting with pusher-js: the handshake, a refused key, and keepalive.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createApp } from '../lib/apps.mjs';
import {
  connectClient,
  newClient,
  pusherErrorCode,
  restClient,
  subscribe,
  uniqueName,
  waitFor,
  waitForFrame,
} from '../lib/clients.mjs';

/**
 * How long a refused client is watched for a reconnect attempt. pusher-js
 * retries a 42xx close at once and a 41xx after one second, so a
 * reconnect, if it came, would show within this window.
 */
const NO_RECONNECT_WINDOW_MS = 1_500;

/** How long the keepalive test stays idle: several 1 s activity timeouts. */
const IDLE_MS = 3_500;

test('connects: state "connected" and a socket_id like 1234.5678', async (t) => {
  const client = await connectClient({ t });
  assert.equal(client.connection.state, 'connected');
  assert.match(client.connection.socket_id, /^\d+\.\d+$/);
  // The handshake's activity_timeout (demo app: 120 s) is what pusher-js uses.
  assert.equal(client.connection.activityTimeout, 120_000);
});

test('an unknown key: pusher-js reports error 4001 and does not reconnect', async (t) => {
  const client = newClient({ t, app: { appId: 'nope', key: 'no-such-key', secret: 'x' } });
  const states = [];
  client.connection.bind('state_change', ({ current }) => states.push(current));
  const { data: err } = await waitFor(client.connection, 'error', { what: 'the connection error' });
  assert.equal(pusherErrorCode(err), 4001, `error event: ${JSON.stringify(err)}`);
  // pusher-js goes to "disconnected" in the same turn as the error event.
  if (client.connection.state !== 'disconnected') {
    await waitFor(client.connection, 'state_change', {
      filter: ({ current }) => current === 'disconnected',
      what: 'state "disconnected"',
    });
  }
  const seen = states.length;
  await new Promise((r) => setTimeout(r, NO_RECONNECT_WINDOW_MS));
  assert.deepEqual(states.slice(seen), [], 'state changes after the refusal (a reconnect attempt?)');
  assert.equal(client.connection.state, 'disconnected');
  assert.ok(!states.includes('connected'), `states: ${states.join(' → ')}`);
});

test('an idle connection with activity_timeout 1 s stays up on pings', async (t) => {
  const app = await createApp({ activity_timeout_s: 1 });
  const client = await connectClient({ t, app });
  assert.equal(client.connection.activityTimeout, 1_000);
  const socketId = client.connection.socket_id;
  const states = [];
  client.connection.bind('state_change', ({ current }) => states.push(current));

  // Idle for a few activity timeouts: pusher-js pings after 1 s of silence
  // and the server answers (the server may ping too); each frame must come
  // within a bounded wait, and the connection must not change state.
  const started = Date.now();
  let frames = 0;
  while (Date.now() - started < IDLE_MS) {
    await waitForFrame(client, (m) => m.event === 'pusher:ping' || m.event === 'pusher:pong', `keepalive frame ${frames + 1}`);
    frames += 1;
  }
  assert.ok(frames >= 3, `only ${frames} keepalive frames in ${Date.now() - started} ms`);
  assert.deepEqual(states, [], 'the connection changed state while idle');
  assert.equal(client.connection.socket_id, socketId);

  // And it still delivers.
  const channel = await subscribe(client, uniqueName('idle'));
  const got = waitFor(channel, 'still-here');
  await restClient(app).trigger(channel.name, 'still-here', { ok: true });
  assert.deepEqual((await got).data, { ok: true });
});
