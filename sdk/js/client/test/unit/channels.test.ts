import { MockHerald } from '@herald/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { MessageMeta, PresenceChannel } from '../../src/index.js';

let mock: MockHerald;
afterEach(() => mock?.client.close());

describe('channels', () => {
  it('subscribes, parses JSON data and passes serial and user id', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe<{ greet: { hi: number }; raw: string }>('chat');
    const subscribed = vi.fn();
    ch.on('subscribed', subscribed);
    await mock.settle();
    expect(ch.state).toBe('subscribed');
    expect(subscribed).toHaveBeenCalledOnce();
    const got: Array<[unknown, MessageMeta]> = [];
    ch.bind('greet', (d, m) => got.push([d, m]));
    ch.bind('raw', (d, m) => got.push([d, m]));
    await mock.emit('chat', 'greet', { hi: 1 }, { serial: 5, userId: 'u1' });
    await mock.emit('chat', 'raw', 'not json {', { serial: 6 });
    expect(got).toEqual([
      [{ hi: 1 }, { channel: 'chat', event: 'greet', serial: 5, userId: 'u1' }],
      ['not json {', { channel: 'chat', event: 'raw', serial: 6 }],
    ]);
  });

  it('delivers each serial once and in order', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('c');
    await mock.settle();
    const serials: number[] = [];
    ch.bind_global((_e, _d, m) => serials.push(m.serial ?? -1));
    for (const s of [1, 2, 2, 1, 4]) await mock.emit('c', 'e', {}, { serial: s });
    expect(serials).toEqual([1, 2, 4]);
  });

  it('global handlers on the client see every channel', async () => {
    mock = new MockHerald();
    await mock.connect();
    mock.client.subscribe('a');
    mock.client.subscribe('b');
    await mock.settle();
    const seen: string[] = [];
    mock.client.bind_global((e, _d, m) => seen.push(`${m.channel}:${e}`));
    await mock.emit('a', 'x', 1);
    await mock.emit('b', 'y', 2);
    expect(seen).toEqual(['a:x', 'b:y']);
  });

  it('resumes from the last serial after a reconnection and reports resumed', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('c', { rewind: 10 });
    await mock.settle();
    expect(mock.sent.find((f) => f.event === 'pusher:subscribe')?.data).toEqual({ channel: 'c', rewind: 10 });
    await mock.emit('c', 'e', {}, { serial: 42 });
    await mock.disconnect();
    expect(ch.state).toBe('subscribing');
    await mock.connect();
    const subs = mock.sent.filter((f) => f.event === 'pusher:subscribe');
    expect(subs.at(-1)?.data).toEqual({ channel: 'c', resume_from: 42 });
    const resumed = vi.fn();
    ch.on('resumed', resumed);
    await mock.emit('c', 'herald_internal:resume_result', { recovered: true });
    expect(resumed).toHaveBeenCalledWith({ recovered: true, filled: false });
  });

  it('tells the app when a gap cannot be filled (no token with history)', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('c');
    await mock.settle();
    await mock.emit('c', 'e', {}, { serial: 3 });
    await mock.disconnect();
    await mock.connect();
    const resumed = vi.fn();
    ch.on('resumed', resumed);
    await mock.emit('c', 'herald_internal:resume_result', { recovered: false });
    expect(resumed).toHaveBeenCalledWith({ recovered: false, filled: false });
  });

  it('forgets a position the server says no longer exists (its stream was reset), and delivers what follows', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('private-c');
    await mock.settle();
    const got: number[] = [];
    ch.bind_global((_e, _d, m) => got.push(m.serial ?? -1));
    await mock.emit('private-c', 'e', {}, { serial: 500 });
    const old = mock.client.publish('private-c', 'e', 'old', { id: 'old' });
    await mock.settle();
    await mock.ack('old', 501);
    await old;
    await mock.disconnect();
    mock.client.publish('private-c', 'e', 'queued', { id: 'queued' }).catch(() => {});
    await mock.connect();
    expect(mock.sent.filter((f) => f.event === 'pusher:subscribe').at(-1)?.data).toMatchObject({ resume_from: 500 });
    // The publish sent after the resubscribe is stored in the new stream
    // (as 2), before the result comes.
    await mock.ack('queued', 2);
    const resumed = vi.fn();
    ch.on('resumed', resumed);
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: false, reset: true });
    expect(resumed).toHaveBeenCalledWith({ recovered: false, filled: false });
    // Nothing received since: the next subscribe rewinds over the time
    // away, which replays the own message of the new stream (skipped) but
    // not 501 of the old one.
    await mock.disconnect();
    await mock.connect();
    expect(mock.sent.filter((f) => f.event === 'pusher:subscribe').at(-1)?.data).toHaveProperty('rewind_ms');
    // Serials restarted lower: 3 and 4 used to be dropped as already seen.
    for (const s of [2, 3, 4]) await mock.emit('private-c', 'e', {}, { serial: s });
    expect(got).toEqual([500, 3, 4]);
    await mock.disconnect();
    await mock.connect();
    expect(mock.sent.filter((f) => f.event === 'pusher:subscribe').at(-1)?.data).toMatchObject({ channel: 'private-c', resume_from: 4 });
  });

  it('after a resume the server could not recover, keeps its position when the server does not say it is gone', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('c');
    await mock.settle();
    const got: number[] = [];
    ch.bind_global((_e, _d, m) => got.push(m.serial ?? -1));
    await mock.emit('c', 'e', {}, { serial: 500 });
    await mock.disconnect();
    await mock.connect();
    await mock.emit('c', 'herald_internal:resume_result', { recovered: false });
    for (const s of [3, 501]) await mock.emit('c', 'e', {}, { serial: s });
    expect(got).toEqual([500, 501]);
  });

  it('a refused subscribe fails the channel with the server error', async () => {
    mock = new MockHerald();
    await mock.connect();
    mock.refuse('private-x', { type: 'AuthError', error: 'bad', status: 401 });
    const ch = mock.client.subscribe('private-x');
    const err = vi.fn();
    ch.on('error', err);
    await mock.settle();
    expect(ch.state).toBe('failed');
    expect(err).toHaveBeenCalledWith({ type: 'AuthError', error: 'bad', status: 401 });
  });

  it('a private channel without auth configuration fails', async () => {
    mock = new MockHerald({ authorizer: undefined as never });
    await mock.connect();
    const ch = mock.client.subscribe('private-x');
    await mock.settle();
    expect(ch.state).toBe('failed');
  });

  it('unsubscribe drops every handler and the channel', async () => {
    mock = new MockHerald();
    await mock.connect();
    for (let i = 0; i < 1000; i++) {
      const ch = mock.client.subscribe(`c-${i % 3}`);
      ch.bind('e', () => {});
      ch.on('subscribed', () => {});
      mock.client.unsubscribe(ch.name);
      expect(ch.handlerCount()).toBe(0);
    }
    expect(mock.client.channelCount).toBe(0);
  });
});

describe('presence', () => {
  it('keeps members, me and count; a quick resume causes no flicker', async () => {
    mock = new MockHerald({ user: { id: 'me', info: { name: 'Me' } } });
    await mock.setMembers('presence-room', { alice: { name: 'Alice' } });
    await mock.connect();
    const room = mock.client.subscribePresence<{}, { name: string }>('presence-room');
    await mock.settle();
    expect(room.count).toBe(2);
    expect(room.me).toEqual({ id: 'me', info: { name: 'Me' } });
    const events: string[] = [];
    room.onMember('member_added', (m) => events.push(`+${m.id}`));
    room.onMember('member_removed', (m) => events.push(`-${m.id}`));
    await mock.memberAdded('presence-room', 'bob', { name: 'Bob' });
    expect(room.members.get('bob')).toEqual({ name: 'Bob' });
    // The connection drops; the roster stays as it was until the resume.
    await mock.disconnect();
    expect(room.count).toBe(3);
    // While away, carol joined and bob left; alice never left.
    await mock.setMembers('presence-room', { alice: { name: 'Alice' }, carol: { name: 'Carol' }, me: { name: 'Me' } });
    await mock.connect();
    expect(events).toEqual(['+bob', '-bob', '+carol']);
    expect([...room.members.keys()].sort()).toEqual(['alice', 'carol', 'me']);
  });

  it('member_removed for an unknown member is ignored', async () => {
    mock = new MockHerald();
    await mock.connect();
    const room = mock.client.subscribe('presence-x') as PresenceChannel;
    await mock.settle();
    const removed = vi.fn();
    room.onMember('member_removed', removed);
    await mock.memberRemoved('presence-x', 'nobody');
    expect(removed).not.toHaveBeenCalled();
  });
});

describe('gap fill from history', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = `${b64({ alg: 'HS256' })}.${b64({ app: 'app-1', sub: 'u', exp: 4102444800, capabilities: { 'private-*': ['subscribe', 'history'] } })}.sig`;

  it('holds live messages until history filled the gap, then delivers each serial once in order', async () => {
    const requests: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pages: Record<string, unknown> = {
      first: { items: [3, 4].map((s) => ({ serial: s, event: 'm', data: `${s}`, published_at_ms: 0 })), next: 'c2' },
      c2: { items: [5, 6].map((s) => ({ serial: s, event: 'm', data: `${s}`, published_at_ms: 0 })), next: null },
    };
    const fetchStub = (async (url: string, init?: RequestInit) => {
      requests.push(`${url} ${(init?.headers as Record<string, string>).authorization}`);
      await gate;
      const cursor = new URL(url).searchParams.get('cursor') ?? 'first';
      return new Response(JSON.stringify(pages[cursor]), { status: 200 });
    }) as typeof fetch;
    mock = new MockHerald({ tokenProvider: async () => token, fetch: fetchStub });
    await mock.connect();
    const ch = mock.client.subscribe('private-g');
    await mock.settle();
    const got: number[] = [];
    ch.bind('m', (_d, m) => got.push(m.serial ?? -1));
    await mock.emit('private-g', 'm', 1, { serial: 2 });
    await mock.disconnect();
    await mock.connect();
    const resumed = vi.fn();
    ch.on('resumed', resumed);
    await mock.emit('private-g', 'herald_internal:resume_result', { recovered: false });
    // Live messages while history is read wait; 6 is in both.
    await mock.emit('private-g', 'm', 6, { serial: 6 });
    await mock.emit('private-g', 'm', 7, { serial: 7 });
    expect(got).toEqual([2]);
    release();
    await until(() => resumed.mock.calls.length === 1);
    expect(got).toEqual([2, 3, 4, 5, 6, 7]);
    expect(resumed).toHaveBeenCalledWith({ recovered: false, filled: true });
    expect(requests[0]).toBe(`http://mock.invalid/apps/app-1/channels/private-g/messages?limit=1000&direction=forwards&from_serial=2 Bearer ${token}`);
    expect(requests[1]).toContain('cursor=c2');
    expect(requests[1]).toContain('from_serial=2');
  });
});

describe('encrypted channels', () => {
  it('a message that cannot be decrypted is an error event, not a crash', async () => {
    mock = new MockHerald({
      authorizer: async () => ({ auth: 'x', shared_secret: 'AAAA' }),
      decryptor: () => {
        throw new Error('bad box');
      },
    });
    await mock.connect();
    const ch = mock.client.subscribe('private-encrypted-x');
    await mock.settle();
    const errors = vi.fn();
    ch.on('error', errors);
    const got = vi.fn();
    ch.bind('e', got);
    await mock.emit('private-encrypted-x', 'e', { nonce: 'n', ciphertext: 'c' });
    expect(got).not.toHaveBeenCalled();
    expect(errors).toHaveBeenCalledWith({ type: 'DecryptError', error: 'bad box' });
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('Herald', () => {
  it('close() ends the connection, channels, waiting publishes and every timer', async () => {
    vi.useFakeTimers();
    try {
      mock = new MockHerald();
      await mock.connect();
      const ch = mock.client.subscribe('private-c');
      await mock.settle();
      ch.bind('e', () => {});
      const waiting = mock.client.publish('private-c', 'e', 1).catch((e: Error) => e.name);
      mock.client.close();
      expect(await waiting).toBe('ClosedError');
      expect(mock.client.connection.state).toBe('disconnected');
      expect(ch.state).toBe('unsubscribed');
      expect(ch.handlerCount()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      await expect(mock.client.publish('private-c', 'e', 1)).rejects.toThrow(/closed/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a token provider that throws as an error event, and keeps trying', async () => {
    vi.useFakeTimers();
    try {
      const cause = new Error('no session');
      mock = new MockHerald({
        tokenProvider: async () => {
          throw cause;
        },
      });
      const errors: unknown[] = [];
      mock.client.on('error', (e) => errors.push(e));
      await vi.advanceTimersByTimeAsync(0);
      expect(errors).toEqual([{ message: 'token provider failed: no session', cause }]);
      expect(mock.client.connection.state).toBe('connecting');
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports subscription_count and cache_miss', async () => {
    mock = new MockHerald();
    await mock.connect();
    const ch = mock.client.subscribe('cache-x');
    await mock.settle();
    const counts = vi.fn();
    const misses = vi.fn();
    ch.on('subscription_count', counts);
    ch.on('cache_miss', misses);
    await mock.emit('cache-x', 'pusher_internal:subscription_count', { subscription_count: 3 });
    await mock.emit('cache-x', 'pusher:cache_miss', {});
    expect(counts).toHaveBeenCalledWith(3);
    expect(ch.subscriptionCount).toBe(3);
    expect(misses).toHaveBeenCalledOnce();
  });
});
