import { createHmac, randomBytes } from 'node:crypto';

import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';

import { naclDecryptor } from '../../src/encrypted.js';
import { HeraldStream, type WatchlistEvent } from '../../src/index.js';
import { DEMO_APP, HERALD_URL, Proxy, client, closeClients, restPublish, signChannel, uniqueName, until } from './lib.js';

afterEach(() => closeClients());

/** Signs pusher:signin as a tenant backend does. */
function signUser(socketId: string, user: Record<string, unknown>) {
  const userData = JSON.stringify(user);
  const sig = createHmac('sha256', DEMO_APP.secret).update(`${socketId}::user::${userData}`).digest('hex');
  return { auth: `${DEMO_APP.key}:${sig}`, user_data: userData };
}

describe('features', () => {
  it('sign-in: server-to-user events and watchlist changes', async () => {
    const ann = uniqueName('ann');
    const bob = uniqueName('bob');
    const a = client({ userAuthenticator: async (socketId) => signUser(socketId, { id: ann, watchlist: [bob] }) });
    const signedIn: string[] = [];
    a.user.on('signed_in', ({ id }) => signedIn.push(id));
    const watch: WatchlistEvent[] = [];
    a.user.on('watchlist', (e) => watch.push(e));
    const got: unknown[] = [];
    a.user.bind('notice', (d) => got.push(d));
    a.user.signin();
    await until('signed in', () => signedIn.length === 1);
    expect(signedIn).toEqual([ann]);
    await restPublish(DEMO_APP, `#server-to-user-${ann}`, 'notice', { hello: ann });
    await until('the user event', () => got.length === 1);
    expect(got).toEqual([{ hello: ann }]);
    const b = client({ userAuthenticator: async (socketId) => signUser(socketId, { id: bob }) });
    b.user.signin();
    await until('bob online on the watchlist', () => watch.some((e) => e.name === 'online' && e.user_ids.includes(bob)));
  });

  it('private-encrypted channel: data decrypted with the shared secret', async () => {
    const key = randomBytes(32);
    const name = uniqueName('private-encrypted-vault');
    const h = client({
      decryptor: naclDecryptor,
      authorizer: async (channel, socketId) => ({ ...signChannel(DEMO_APP, socketId, channel), shared_secret: key.toString('base64') }),
    });
    const ch = h.subscribe(name);
    await until('subscribed', () => ch.state === 'subscribed');
    const got: unknown[] = [];
    ch.bind('secret', (d) => got.push(d));
    const nonce = randomBytes(24);
    const box = nacl.secretbox(new TextEncoder().encode(JSON.stringify({ pin: 1234 })), nonce, key);
    await restPublish(DEMO_APP, name, 'secret', { nonce: nonce.toString('base64'), ciphertext: Buffer.from(box).toString('base64') });
    await until('the message', () => got.length === 1);
    expect(got).toEqual([{ pin: 1234 }]);
  });

  it('SSE stream: receive-only, resumes after a cut, each serial once and in order', async () => {
    const proxy = await new Proxy(HERALD_URL).listen();
    const name = uniqueName('sse-news');
    const stream = new HeraldStream({ key: DEMO_APP.key, url: proxy.url, channels: [name], random: () => 0.1 });
    try {
      const got: number[] = [];
      stream.bind(name, 'tick', (_d, m) => got.push(m.serial ?? -1));
      const resumed: boolean[] = [];
      stream.on('resumed', (r) => resumed.push(r.recovered));
      await until('open', () => stream.state === 'open');
      const sent: number[] = [];
      for (let i = 0; i < 5; i++) sent.push(await restPublish(DEMO_APP, name, 'tick', { i }));
      await until('the first messages', () => got.length === 5);
      proxy.cut();
      for (let i = 5; i < 10; i++) sent.push(await restPublish(DEMO_APP, name, 'tick', { i }));
      await until('every message', () => got.length >= sent.length);
      expect(got).toEqual(sent);
      expect(resumed).toEqual([true]);
    } finally {
      stream.close();
      await proxy.close();
    }
  });
});
