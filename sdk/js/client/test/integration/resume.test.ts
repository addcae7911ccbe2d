import path from 'node:path';

import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { removeClusterDir, startHerald } from '../../../../../internal/e2e/js/harness/herald.mjs';
import type { Herald, ResumeResult } from '../../src/index.js';
import { type App, DEMO_APP, HERALD_URL, Proxy, client, closeClients, createApp, restPublish, signChannel, uniqueName, until } from './lib.js';

// What a resume after a reconnection delivers to a client that publishes:
// never its own messages, and after the server's stream was reset, every
// new message.

afterEach(() => closeClients());

/** Fast retries: these tests cut connections on purpose. */
const FAST = { backoffBaseMs: 100, backoffMaxMs: 500 };
/** Publishes in flight at once (the outbox holds 100). */
const BATCH = 50;

/** An app whose clients may publish 300 messages quickly (client_event_rate). */
let app: App;
beforeAll(async () => {
  app = await createApp({ client_events: true, client_event_rate: 1000 });
});

const authorizer = (a: App) => async (channel: string, socketId: string) => signChannel(a, socketId, channel);

/** Records the serials a channel delivers, in order, and its resume results. */
function record(h: Herald, name: string): { got: number[]; resumed: ResumeResult[] } {
  const got: number[] = [];
  const resumed: ResumeResult[] = [];
  const ch = h.subscribe(name);
  ch.bind_global((_e, _d, m) => got.push(m.serial ?? -1));
  ch.on('resumed', (r) => resumed.push(r));
  return { got, resumed };
}

describe('resume', () => {
  it('300 acked publishes and nothing received: the resume after a cut brings none of them back', async () => {
    const proxy = await new Proxy(HERALD_URL).listen();
    try {
      const name = uniqueName('private-own');
      const h = client({ app, url: proxy.url, authorizer: authorizer(app), ...FAST });
      const { got, resumed } = record(h, name);
      await until('subscribed', () => h.channel(name)?.state === 'subscribed');
      const first = await restPublish(app, name, 'm', 'first');
      await until('the first message', () => got.length === 1);
      for (let i = 0; i < 300; i += BATCH) {
        await Promise.all(Array.from({ length: BATCH }, (_, j) => h.publish(name, 'm', { i: i + j })));
      }
      proxy.cut();
      await until('resumed', () => resumed.length === 1);
      expect(resumed[0]).toEqual({ recovered: true, filled: false });
      const last = await restPublish(app, name, 'm', 'last');
      await until('the last message', () => got.includes(last));
      // Only 256 own serials used to be remembered: 44 came back.
      expect(got).toEqual([first, last]);
    } finally {
      await proxy.close();
    }
  });

  it('acks lost in a cut: the resent publishes are stored once, and their replay is not delivered back', async () => {
    const proxy = await new Proxy(HERALD_URL).listen();
    try {
      const name = uniqueName('private-lost-ack');
      const h = client({ app, url: proxy.url, authorizer: authorizer(app), ...FAST });
      const observer = client({ app, authorizer: authorizer(app) });
      const { got } = record(h, name);
      const seen = record(observer, name).got;
      await until('subscribed', () => h.channel(name)?.state === 'subscribed' && observer.channel(name)?.state === 'subscribed');
      const first = await restPublish(app, name, 'm', 'first');
      await until('the first message', () => got.length === 1 && seen.length === 1);
      // The server stores the one in flight, but its ack never reaches the
      // client; the others wait behind it (one in flight per channel).
      proxy.silence();
      const acks = Array.from({ length: 10 }, (_, i) => h.publish(name, 'm', { i }, { id: `lost-${i}` }));
      await until('the first publish stored', () => seen.length === 2);
      proxy.cut();
      // Resent after the reconnection with the same ids: acked with the
      // serials they were stored with, while the resume replays them.
      const serials = (await Promise.all(acks)).map((a) => a.serial);
      await until('the publishes stored', () => seen.length === 11);
      expect(serials).toEqual(seen.slice(1));
      const last = await restPublish(app, name, 'm', 'last');
      await until('the last message', () => got.includes(last) && seen.includes(last));
      expect(got).toEqual([first, last]);
      expect(seen).toEqual([first, ...serials, last]);
    } finally {
      await proxy.close();
    }
  });

  it('a server whose message stream starts over: the client forgets its position and gets every new message', async () => {
    const dataDir = path.join(inject('tmpDir'), 'fresh-data');
    const proxy = await new Proxy(HERALD_URL).listen();
    let fresh: Awaited<ReturnType<typeof startHerald>> | undefined;
    try {
      const name = uniqueName('feed-reset');
      const h = client({ url: proxy.url, ...FAST });
      const { got, resumed } = record(h, name);
      await until('subscribed', () => h.channel(name)?.state === 'subscribed');
      // A position the new server's stream will not reach soon.
      const old: number[] = [];
      do old.push(await restPublish(DEMO_APP, name, 'm', old.length));
      while ((old.at(-1) ?? 0) < 100);
      await until('the old messages', () => got.length === old.length);

      // Another server, on a fresh data folder: the same app (herald dev
      // seeds it), serials from 1.
      fresh = await startHerald({ bin: inject('heraldBin'), dataDir, logPath: path.join(inject('tmpDir'), 'fresh.log') });
      proxy.retarget(fresh.url);
      proxy.cut();
      await until('resumed', () => resumed.length === 1);
      expect(resumed[0]).toEqual({ recovered: false, filled: false });
      const next = [await restPublish(DEMO_APP, name, 'm', 'new', fresh.url), await restPublish(DEMO_APP, name, 'm', 'newer', fresh.url)];
      expect(next[1]).toBeLessThan(old.at(-1) ?? 0);
      // Both used to be dropped, as below the old position.
      await until('the new messages', () => got.length === old.length + next.length);
      expect(got).toEqual([...old, ...next]);
    } finally {
      closeClients();
      await proxy.close();
      await fresh?.stop();
      await removeClusterDir(dataDir);
    }
  });
});
