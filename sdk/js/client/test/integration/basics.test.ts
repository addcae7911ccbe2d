import http from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import { type MessageMeta, PublishRejectedError } from '../../src/index.js';
import { DEMO_APP, client, closeClients, connected, restPublish, signChannel, uniqueName, until } from './lib.js';

afterEach(() => closeClients());

describe('against herald dev', () => {
  it('public channel: parsed data and serials', async () => {
    const h = client();
    const name = uniqueName('news');
    const ch = h.subscribe<{ update: { n: number } }>(name);
    await until('subscribed', () => ch.state === 'subscribed');
    const got: Array<[unknown, MessageMeta]> = [];
    ch.bind('update', (d, m) => got.push([d, m]));
    const s1 = await restPublish(DEMO_APP, name, 'update', { n: 1 });
    const s2 = await restPublish(DEMO_APP, name, 'update', { n: 2 });
    await until('two messages', () => got.length === 2);
    expect(got).toEqual([
      [{ n: 1 }, { channel: name, event: 'update', serial: s1 }],
      [{ n: 2 }, { channel: name, event: 'update', serial: s2 }],
    ]);
    expect(h.connection.state).toBe('connected');
  });

  it('private channel through an auth endpoint with fresh headers per request', async () => {
    let n = 0;
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        seen.push(String(req.headers.authorization));
        const q = new URLSearchParams(body);
        if (!/^Bearer t\d+$/.test(String(req.headers.authorization))) {
          res.writeHead(403).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(signChannel(DEMO_APP, q.get('socket_id') ?? '', q.get('channel_name') ?? '')));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const h = client({ authEndpoint: `http://127.0.0.1:${port}/auth`, headers: async () => ({ authorization: `Bearer t${++n}` }) });
      const a = h.subscribe(uniqueName('private-a'));
      const b = h.subscribe(uniqueName('private-b'));
      await until('both subscribed', () => a.state === 'subscribed' && b.state === 'subscribed');
      expect(seen.sort()).toEqual(['Bearer t1', 'Bearer t2']);
    } finally {
      server.close();
    }
  });

  it('private channel refused with a wrong signature', async () => {
    const h = client({ authorizer: async () => ({ auth: `${DEMO_APP.key}:${'0'.repeat(64)}` }) });
    const ch = h.subscribe(uniqueName('private-x'));
    const errors: unknown[] = [];
    ch.on('error', (e) => errors.push(e));
    await until('failed', () => ch.state === 'failed');
    expect(errors[0]).toMatchObject({ type: 'AuthError', status: 401 });
  });

  it('presence: members, me, joins and leaves', async () => {
    const name = uniqueName('presence-room');
    const as = (id: string) =>
      client({ authorizer: async (channel, socketId) => signChannel(DEMO_APP, socketId, channel, { user_id: id, user_info: { name: id } }) });
    const alice = as('alice');
    const room = alice.subscribePresence<{}, { name: string }>(name as `presence-${string}`);
    await until('alice in', () => room.state === 'subscribed');
    expect(room.me).toEqual({ id: 'alice', info: { name: 'alice' } });
    const events: string[] = [];
    room.onMember('member_added', (m) => events.push(`+${m.id}`));
    room.onMember('member_removed', (m) => events.push(`-${m.id}`));
    const bob = as('bob');
    const bobRoom = bob.subscribePresence(name as `presence-${string}`);
    await until('bob in and seen', () => bobRoom.state === 'subscribed' && room.count === 2);
    expect(bobRoom.count).toBe(2);
    bob.close();
    await until('bob gone', () => room.count === 1);
    expect(events).toEqual(['+bob', '-bob']);
  });

  it('client events between two clients, with the sender user id on presence', async () => {
    const name = uniqueName('presence-chat');
    const as = (id: string) =>
      client({ authorizer: async (channel, socketId) => signChannel(DEMO_APP, socketId, channel, { user_id: id }) });
    const a = as('a').subscribe(name);
    const b = as('b').subscribe(name);
    await until('both subscribed', () => a.state === 'subscribed' && b.state === 'subscribed');
    const got: Array<[unknown, MessageMeta]> = [];
    b.bind('client-hello', (d, m) => got.push([d, m]));
    expect(a.trigger('client-hello', { hi: true })).toBe(true);
    await until('the client event', () => got.length === 1);
    expect(got[0]?.[0]).toEqual({ hi: true });
    expect(got[0]?.[1].userId).toBe('a');
  });

  it('acked publish: resolves with the serial the other client sees; a nack rejects', async () => {
    const name = uniqueName('private-pub');
    const auth = { authorizer: async (channel: string, socketId: string) => signChannel(DEMO_APP, socketId, channel) };
    const sender = client(auth);
    const receiver = client(auth);
    const s = sender.subscribe(name);
    const r = receiver.subscribe(name);
    await until('both subscribed', () => s.state === 'subscribed' && r.state === 'subscribed');
    const got: number[] = [];
    r.bind('msg', (_d, m) => got.push(m.serial ?? -1));
    const { serial } = await sender.publish(name, 'msg', { text: 'hi' }, { id: 'm-1' });
    await until('delivery', () => got.length === 1);
    expect(got).toEqual([serial]);
    // The same id again is the same message: same serial, delivered once.
    const again = await sender.publish(name, 'msg', { text: 'hi' }, { id: 'm-1' });
    expect(again.serial).toBe(serial);
    // Publishing on a public channel is refused by the server.
    const pub = uniqueName('public');
    sender.subscribe(pub);
    await until('public subscribed', () => sender.channel(pub)?.state === 'subscribed');
    const err = await sender.publish(pub, 'msg', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishRejectedError);
    expect((err as PublishRejectedError).code).toBe(4009);
    // Nothing more arrived at the receiver (checked after a later message).
    await sender.publish(name, 'msg', { text: 'later' });
    await until('the later message', () => got.length === 2);
  });

  it('no leak after 1,000 subscribe/unsubscribe cycles', async () => {
    const h = client();
    await connected(h);
    const connListeners = h.connection.listenerCount();
    const clientListeners = h.listenerCount();
    for (let i = 0; i < 1000; i++) {
      const ch = h.subscribe(`leak-${i % 10}`);
      ch.bind('e', () => {});
      ch.bind_global(() => {});
      ch.on('subscribed', () => {});
      h.unsubscribe(ch.name);
    }
    expect(h.channelCount).toBe(0);
    expect(h.connection.listenerCount()).toBe(connListeners);
    expect(h.listenerCount()).toBe(clientListeners);
    // The connection still works, and the last cycle's channel is gone on the server too.
    const name = uniqueName('after-leak');
    const ch = h.subscribe(name);
    await until('subscribed', () => ch.state === 'subscribed');
    const got: unknown[] = [];
    ch.bind('e', (d) => got.push(d));
    await restPublish(DEMO_APP, name, 'e', 1);
    await until('a message', () => got.length === 1);
  });
});
