// Private and private-encrypted channels, authorised by the `pusher` SDK
// as a tenant's auth endpoint would.
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  connectClient,
  recordFrames,
  rest,
  restClient,
  subscribe,
  uniqueName,
  waitFor,
} from '../lib/clients.mjs';
import { APP } from '../lib/herald.mjs';

/** A backend configured with the wrong secret signs bad auth tokens. */
const wrongSigner = restClient({ ...APP, secret: 'not-the-secret' });

test('private channel: good auth subscribes and receives', async (t) => {
  const client = await connectClient({ t });
  const channel = await subscribe(client, uniqueName('private-chat'));
  const got = waitFor(channel, 'secret-news');
  await rest.trigger(channel.name, 'secret-news', { body: 'for members only' });
  assert.deepEqual((await got).data, { body: 'for members only' });
});

test('private channel: a bad signature gives subscription_error with status 401', async (t) => {
  const client = await connectClient({ t, signer: wrongSigner });
  const name = uniqueName('private-chat');
  await assert.rejects(subscribe(client, name), (err) => {
    assert.equal(err.status, 401, JSON.stringify(err.data));
    assert.equal(err.data.type, 'AuthError');
    return true;
  });
  assert.equal(client.connection.state, 'connected', 'a refused subscription keeps the connection');
  // The same connection can still join a channel it is entitled to.
  assert.ok((await subscribe(client, uniqueName('public-after-refusal'))).subscribed);
});

test('private-encrypted channel: the SDK encrypts, Herald passes through, pusher-js decrypts', async (t) => {
  const client = await connectClient({ t });
  const frames = recordFrames(client);
  const channel = await subscribe(client, uniqueName('private-encrypted-vault'));
  const payload = { secret: 'only the clients can read this', n: 7 };
  const got = waitFor(channel, 'sealed');
  await rest.trigger(channel.name, 'sealed', payload);
  assert.deepEqual((await got).data, payload);

  // On the wire it was ciphertext: Herald never had the key.
  const wire = frames.find((f) => f.event === 'sealed');
  assert.ok(wire, 'the frame was recorded');
  assert.equal(typeof wire.data.nonce, 'string');
  assert.equal(typeof wire.data.ciphertext, 'string');
  assert.ok(!JSON.stringify(wire).includes('only the clients'), 'plaintext on the wire');
});

test('private-encrypted channel: pusher-js refuses client events itself', async (t) => {
  const client = await connectClient({ t });
  const channel = await subscribe(client, uniqueName('private-encrypted-nowhisper'));
  assert.throws(() => channel.trigger('client-typing', {}), /not currently supported|encrypted/i);
});
