import { afterEach, describe, expect, it, vi } from 'vitest';

import { MockHerald } from '../src/index.js';

let mock: MockHerald;
afterEach(() => mock?.client.close());

describe('MockHerald', () => {
  it('connects at once and answers subscribes', async () => {
    mock = new MockHerald();
    await mock.settle();
    expect(mock.client.connection.state).toBe('connected');
    const ch = mock.client.subscribe('news');
    await mock.settle();
    expect(ch.state).toBe('subscribed');
    expect(mock.channels).toEqual(['news']);
  });

  it('with autoConnect false waits for connect()', async () => {
    mock = new MockHerald({ autoConnect: false });
    await mock.settle();
    expect(mock.client.connection.state).toBe('connecting');
    await mock.connect();
    expect(mock.client.connection.state).toBe('connected');
  });

  it('drives messages with increasing serials', async () => {
    mock = new MockHerald();
    const ch = mock.client.subscribe('news');
    await mock.settle();
    const got: number[] = [];
    ch.bind('update', (_d, m) => got.push(m.serial ?? 0));
    const s1 = await mock.emit('news', 'update', { a: 1 });
    const s2 = await mock.emit('news', 'update', { a: 2 });
    expect(got).toEqual([s1, s2]);
    expect(s2).toBeGreaterThan(s1);
  });

  it('disconnect keeps the server down until connect(), then the client resumes', async () => {
    mock = new MockHerald();
    mock.client.subscribe('news');
    await mock.settle();
    await mock.emit('news', 'e', 1);
    await mock.disconnect();
    expect(mock.client.connection.state).toBe('reconnecting');
    await mock.connect();
    expect(mock.client.connection.state).toBe('connected');
    const subs = mock.sent.filter((f) => f.event === 'pusher:subscribe');
    expect(subs.at(-1)?.data).toEqual({ channel: 'news', resume_from: 1 });
  });

  it('a fatal close code fails the client', async () => {
    mock = new MockHerald();
    await mock.settle();
    await mock.disconnect(4001, 'unknown app key');
    expect(mock.client.connection.state).toBe('failed');
  });

  it('autoAck acks every publish', async () => {
    mock = new MockHerald({ autoAck: true });
    mock.client.subscribe('private-x');
    await mock.settle();
    await expect(mock.client.publish('private-x', 'e', 1)).resolves.toMatchObject({ serial: expect.any(Number) });
  });

  it('ack and nack without a pending publish throw', async () => {
    mock = new MockHerald();
    await expect(mock.ack()).rejects.toThrow(/no publish is pending/);
    await expect(mock.nack('nope')).rejects.toThrow(/no pending publish nope/);
  });

  it('presence helpers drive members', async () => {
    mock = new MockHerald({ user: { id: 'u1', info: { n: 1 } } });
    const room = mock.client.subscribePresence('presence-r');
    await mock.settle();
    expect(room.me).toEqual({ id: 'u1', info: { n: 1 } });
    const added = vi.fn();
    room.onMember('member_added', added);
    await mock.memberAdded('presence-r', 'u2', { n: 2 });
    expect(added).toHaveBeenCalledWith({ id: 'u2', info: { n: 2 } });
    await mock.memberRemoved('presence-r', 'u2');
    expect(room.count).toBe(1);
  });

  it('works under fake timers', async () => {
    vi.useFakeTimers();
    try {
      mock = new MockHerald();
      const ch = mock.client.subscribe('x');
      await mock.settle();
      expect(ch.state).toBe('subscribed');
    } finally {
      vi.useRealTimers();
    }
  });
});
