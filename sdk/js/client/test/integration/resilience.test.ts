import { readFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { removeClusterDir, startHerald } from '../../../../../internal/e2e/js/harness/herald.mjs';
import type { Herald } from '../../src/index.js';
import { DEMO_APP, HERALD_URL, Proxy, client, closeClients, restPublish, signChannel, uniqueName, until } from './lib.js';

afterEach(() => closeClients());

/** Fast retries: these tests cut connections on purpose. */
const FAST = { backoffBaseMs: 100, backoffMaxMs: 500 };

const authorizer = async (channel: string, socketId: string) => signChannel(DEMO_APP, socketId, channel);

/** Records the serials a channel delivers, in order. */
function record(h: Herald, name: string): number[] {
  const got: number[] = [];
  h.subscribe(name).bind_global((_e, _d, m) => got.push(m.serial ?? -1));
  return got;
}

describe('resilience', () => {
  it('a TCP proxy cut mid-stream: every serial exactly once and in order, acked publishes included', async () => {
    const proxy = await new Proxy(HERALD_URL).listen();
    try {
      const feed = uniqueName('feed');
      const chat = uniqueName('private-chat');
      const behind = client({ url: proxy.url, authorizer, ...FAST });
      const observer = client({ authorizer });
      const gotFeed = record(behind, feed);
      const gotChat = record(observer, chat);
      behind.subscribe(chat);
      await until('subscribed', () =>
        behind.channel(feed)?.state === 'subscribed' && behind.channel(chat)?.state === 'subscribed' && observer.channel(chat)?.state === 'subscribed',
      );
      const resumes: boolean[] = [];
      behind.channel(feed)?.on('resumed', (r) => resumes.push(r.recovered));
      const sent: number[] = [];
      const acks: Array<Promise<{ serial: number }>> = [];
      for (let i = 0; i < 120; i++) {
        sent.push(await restPublish(DEMO_APP, feed, 'tick', { i }));
        if (i % 4 === 0) acks.push(behind.publish(chat, 'say', { i }, { id: `say-${i}` }));
        if (i % 30 === 15) proxy.cut();
      }
      await until('every feed message', () => gotFeed.length >= sent.length);
      expect(gotFeed).toEqual(sent);
      expect(resumes.length).toBeGreaterThan(0);
      expect(resumes.every(Boolean)).toBe(true);
      const acked = (await Promise.all(acks)).map((a) => a.serial);
      await until('every chat message', () => gotChat.length >= acked.length);
      expect(gotChat).toEqual(acked);
      expect(proxy.cuts).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it('the server killed and restarted on the same data folder: every serial exactly once and in order', async () => {
    const dataDir = path.join(inject('tmpDir'), 'restart-data');
    const start = () => startHerald({ bin: inject('heraldBin'), dataDir, logPath: path.join(inject('tmpDir'), 'restart.log') });
    let server = await start();
    const proxy = await new Proxy(server.url).listen();
    try {
      const feed = uniqueName('feed');
      const chat = uniqueName('private-chat');
      const h = client({ url: proxy.url, authorizer, ...FAST });
      const got = record(h, feed);
      h.subscribe(chat);
      await until('subscribed', () => h.channel(feed)?.state === 'subscribed' && h.channel(chat)?.state === 'subscribed');
      const sent: number[] = [];
      for (let i = 0; i < 20; i++) sent.push(await restPublish(DEMO_APP, feed, 'tick', { i }, server.url));
      await until('the first messages', () => got.length === sent.length);

      // SIGKILL, as a crash: herald dev writes its pid (then its command) into the data
      // folder's lock file; the restart reuses its orphaned PostgreSQL.
      process.kill(Number(readFileSync(path.join(dataDir, 'herald.lock'), 'utf8').trim().split(/\s+/)[0]), 'SIGKILL');
      expect((await server.done).signal).toBe('SIGKILL');
      await until('the client to notice', () => h.connection.state !== 'connected');
      // Publishes while the server is down wait in the outbox.
      const acks = [0, 1, 2].map((i) => h.publish(chat, 'say', { i }, { id: `down-${i}` }));

      server = await start();
      proxy.retarget(server.url);
      for (let i = 20; i < 40; i++) sent.push(await restPublish(DEMO_APP, feed, 'tick', { i }, server.url));
      await until('every message', () => got.length >= sent.length);
      expect(got).toEqual(sent);
      const serials = (await Promise.all(acks)).map((a) => a.serial);
      expect([...serials].sort((a, b) => a - b)).toEqual(serials);
      expect(serials[0]).toBeGreaterThan(sent[19] ?? Infinity);
    } finally {
      closeClients();
      await proxy.close();
      await server.stop();
      await removeClusterDir(dataDir);
    }
  });
});
