import { afterEach, describe, expect, it } from 'vitest';

import type { ResumeResult, StateChange } from '../../src/index.js';
import {
  type App,
  DEMO_APP,
  HERALD_URL,
  Proxy,
  client,
  closeClients,
  createApp,
  restPublish,
  tenantToken,
  uniqueName,
  until,
} from './lib.js';

afterEach(() => closeClients());

describe('tokens', () => {
  it('refreshes the token on token_expiring and stays connected past the first exp', async () => {
    // herald runs with --token-expiry-notice 2s (the harness): a 4 s token
    // gets token_expiring after about 2 s.
    const TTL_S = 4;
    let calls = 0;
    const h = client({
      tokenProvider: async () => {
        calls++;
        return tenantToken(DEMO_APP, { sub: 'tess', capabilities: { 'private-tok-*': ['subscribe'] } }, TTL_S);
      },
    });
    const changes: StateChange[] = [];
    h.connection.on('change', (c) => changes.push(c));
    const ch = h.subscribe(uniqueName('private-tok'));
    await until('subscribed', () => ch.state === 'subscribed');
    await until('a refresh', () => calls >= 2, (TTL_S + 2) * 1000);
    // Past the first token's exp, the connection is still the same one.
    await new Promise((r) => setTimeout(r, (TTL_S - 1) * 1000));
    expect(h.connection.state).toBe('connected');
    expect(changes.filter((c) => c.current !== 'connected' && c.previous === 'connected')).toEqual([]);
    expect(ch.state).toBe('subscribed');
  });

  it('a token refused at connect is asked for once more, then the client fails', async () => {
    let calls = 0;
    const h = client({
      tokenProvider: async () => {
        calls++;
        return tenantToken({ ...DEMO_APP, secret: 'wrong' }, { sub: 'x' });
      },
    });
    await until('failed', () => h.connection.state === 'failed');
    expect(calls).toBe(2);
  });

  it('presence with a token: the member is the token sub', async () => {
    const name = uniqueName('presence-t');
    const h = client({
      tokenProvider: async () => tenantToken(DEMO_APP, { sub: 'tok-user', user_info: { n: 1 }, capabilities: { 'presence-t-*': ['presence'] } }),
    });
    const room = h.subscribePresence(name as `presence-${string}`);
    await until('subscribed', () => room.state === 'subscribed');
    expect(room.me).toEqual({ id: 'tok-user', info: { n: 1 } });
  });

  it('history fill: a resume the server cannot recover is filled from history, each serial once', async () => {
    // No resume window: every resume answers recovered:false.
    const app: App = await createApp({ resume_window_s: 0, client_events: true });
    const name = uniqueName('private-hist');
    const proxy = await new Proxy(HERALD_URL).listen();
    try {
      const h = client({
        app,
        url: proxy.url,
        tokenProvider: async () => tenantToken(app, { sub: 'u', capabilities: { 'private-hist-*': ['subscribe', 'history'] } }),
      });
      const ch = h.subscribe(name);
      await until('subscribed', () => ch.state === 'subscribed');
      const got: number[] = [];
      ch.bind('m', (_d, meta) => got.push(meta.serial ?? -1));
      const sent = [await restPublish(app, name, 'm', 0)];
      await until('the first message', () => got.length === 1);
      const resumed: ResumeResult[] = [];
      ch.on('resumed', (r) => resumed.push(r));
      proxy.cut();
      for (let i = 1; i <= 5; i++) sent.push(await restPublish(app, name, 'm', i));
      await until('resumed', () => resumed.length === 1);
      expect(resumed[0]).toEqual({ recovered: false, filled: true });
      sent.push(await restPublish(app, name, 'm', 6));
      await until('every message', () => got.length >= sent.length);
      expect(got).toEqual(sent);
      // History reads directly too.
      const page = await ch.history({ limit: 3 });
      expect(page.items.map((it) => it.serial)).toEqual(sent.slice(-3).reverse());
      expect(page.items[0]?.data).toBe(6);
    } finally {
      await proxy.close();
    }
  });
});
