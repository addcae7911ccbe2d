import 'fake-indexeddb/auto';

import { MockHerald } from '@herald/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  HeraldError,
  IndexedDbOutboxStore,
  MemoryOutboxStore,
  OutboxFullError,
  PublishRejectedError,
  PublishTimeoutError,
} from '../../src/index.js';

let mock: MockHerald;
beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  mock?.client.close();
  vi.useRealTimers();
});

async function subscribed(opts: ConstructorParameters<typeof MockHerald>[0] = {}) {
  mock = new MockHerald(opts);
  await mock.connect();
  mock.client.subscribe('private-c');
  await mock.settle();
  return mock;
}

describe('publish and the outbox', () => {
  it('resolves with the serial of the ack', async () => {
    await subscribed();
    const p = mock.client.publish('private-c', 'msg', { text: 'hi' }, { id: 'm1' });
    await mock.settle();
    expect(mock.pendingPublishes).toEqual([{ id: 'm1', channel: 'private-c', event: 'msg', data: { text: 'hi' } }]);
    await mock.ack('m1', 77);
    await expect(p).resolves.toEqual({ serial: 77 });
    expect(mock.client.pendingPublishes).toBe(0);
  });

  it('rejects with a typed error on a nack', async () => {
    await subscribed();
    const p = mock.client.publish('private-c', 'msg', 1, { id: 'bad' });
    await mock.settle();
    await mock.nack('bad', 4009, 'the token does not allow publishing on this channel');
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishRejectedError);
    expect(err).toMatchObject({ id: 'bad', code: 4009 });
  });

  it('retries a rate-limited publish until its deadline, then rejects with the nack', async () => {
    await subscribed({ outbox: { deadlineMs: 2_500 } });
    const p = mock.client.publish('private-c', 'msg', 1, { id: 'busy' });
    const caught = p.catch((e: unknown) => e);
    for (let i = 0; i < 3; i++) {
      await mock.settle();
      await mock.nack('busy', 4301, 'more than 10 client messages per second');
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const err = await caught;
    expect(err).toBeInstanceOf(PublishRejectedError);
    expect(err).toMatchObject({ code: 4301 });
  });

  it('keeps a channel in publish order across a 4301: nothing overtakes the refused publish', async () => {
    await subscribed();
    const ps = ['a', 'b', 'c'].map((id) => mock.client.publish('private-c', 'msg', id, { id }));
    await mock.settle();
    // Only the oldest is in flight, so the server cannot accept b before a.
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['a']);
    await mock.nack('a', 4301, 'more than 10 client messages per second');
    // Nothing is sent before the retry time, not even a new publish.
    const d = mock.client.publish('private-c', 'msg', 'd', { id: 'd' });
    await vi.advanceTimersByTimeAsync(999);
    expect(mock.pendingPublishes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const order: string[] = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(mock.pendingPublishes.map((x) => x.id)).toEqual([id]);
      order.push(id);
      await mock.ack(id);
    }
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    await expect(Promise.all([...ps, d])).resolves.toHaveLength(4);
  });

  it('paces retries after 4301: one frame per channel per retry, not the whole backlog', async () => {
    await subscribed();
    mock.client.subscribe('private-d');
    await mock.settle();
    const ps = [...Array(20).keys()].map((i) => mock.client.publish(i % 2 ? 'private-d' : 'private-c', 'msg', i, { id: `m${i}` }));
    for (const p of ps) p.catch(() => {});
    await mock.settle();
    const publishes = () => mock.sent.filter((f) => f.event === 'herald:publish').length;
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['m0', 'm1']);
    for (let tick = 0; tick < 5; tick++) {
      for (const x of [...mock.pendingPublishes]) await mock.nack(x.id, 4301, 'over the rate');
      await vi.advanceTimersByTimeAsync(1_000);
    }
    // The two heads, once at first and once per retry.
    expect(publishes()).toBe(12);
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['m0', 'm1']);
  });

  it('rejects at once what waits unsent when the connection fails, and what is published while it is failed', async () => {
    await subscribed();
    const sent = mock.client.publish('private-c', 'msg', 1, { id: 'sent' });
    const waiting = mock.client.publish('private-c', 'msg', 2, { id: 'waiting' });
    const errs = [sent, waiting].map((p) => p.catch((e: unknown) => e));
    await mock.settle();
    await mock.disconnect(4009, 'token refused');
    expect(mock.client.connection.state).toBe('failed');
    for (const err of await Promise.all(errs)) {
      expect(err).toBeInstanceOf(HeraldError);
      expect(err).not.toBeInstanceOf(PublishTimeoutError);
      expect((err as Error).message).toMatch(/connection failed \(.*\): the publish was not sent/);
    }
    await expect(mock.client.publish('private-c', 'msg', 3)).rejects.toThrow(/connection failed/);
    expect(mock.client.pendingPublishes).toBe(0);
  });

  it('resends a publish nacked as not stored, with the same id', async () => {
    await subscribed();
    const p = mock.client.publish('private-c', 'msg', 1, { id: 'retry' });
    await mock.settle();
    await mock.nack('retry', 4500, 'not stored');
    await vi.advanceTimersByTimeAsync(1_000);
    await mock.settle();
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['retry']);
    await mock.ack('retry', 9);
    await expect(p).resolves.toEqual({ serial: 9 });
  });

  it('queues while disconnected and flushes in order on reconnect', async () => {
    await subscribed();
    await mock.disconnect();
    const ps = ['a', 'b', 'c'].map((id) => mock.client.publish('private-c', 'msg', id, { id }));
    await mock.settle();
    expect(mock.pendingPublishes).toEqual([]);
    await mock.connect();
    // One in flight per channel: each is sent once the one before is acked.
    for (const id of ['a', 'b', 'c']) {
      expect(mock.pendingPublishes.map((x) => x.id)).toEqual([id]);
      await mock.ack(id);
    }
    await expect(Promise.all(ps)).resolves.toHaveLength(3);
  });

  it('resends an unacked publish after a reconnection with the same id', async () => {
    await subscribed();
    const p = mock.client.publish('private-c', 'msg', 1, { id: 'x' });
    await mock.settle();
    mock.pendingPublishes.length = 0;
    await mock.disconnect();
    await mock.connect();
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['x']);
    await mock.ack('x', 5);
    await expect(p).resolves.toEqual({ serial: 5 });
  });

  it('de-duplicates by id: the same id joins the waiting publish', async () => {
    await subscribed();
    await mock.disconnect();
    const p1 = mock.client.publish('private-c', 'msg', 1, { id: 'same' });
    const p2 = mock.client.publish('private-c', 'msg', 1, { id: 'same' });
    expect(p2).toBe(p1);
    await mock.connect();
    expect(mock.pendingPublishes).toHaveLength(1);
    await mock.ack('same');
    await p1;
  });

  it('rejects after the deadline and never sends it later', async () => {
    await subscribed({ outbox: { deadlineMs: 5_000 } });
    await mock.disconnect();
    const p = mock.client.publish('private-c', 'msg', 1, { id: 'late' });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await caught).toBeInstanceOf(PublishTimeoutError);
    await mock.connect();
    expect(mock.pendingPublishes).toEqual([]);
  });

  it('caps the deadline at 110 s', async () => {
    await subscribed();
    await mock.disconnect();
    const caught = mock.client.publish('private-c', 'msg', 1, { deadlineMs: 3_600_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(109_999);
    expect(mock.client.pendingPublishes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await caught).toBeInstanceOf(PublishTimeoutError);
  });

  it('rejects the newest publish when full', async () => {
    await subscribed({ outbox: { maxSize: 2 } });
    await mock.disconnect();
    const a = mock.client.publish('private-c', 'm', 1, { id: 'a' });
    const b = mock.client.publish('private-c', 'm', 2, { id: 'b' });
    await expect(mock.client.publish('private-c', 'm', 3, { id: 'c' })).rejects.toBeInstanceOf(OutboxFullError);
    await mock.connect();
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['a']);
    await mock.ack('a');
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['b']);
    await mock.ack('b');
    await Promise.all([a, b]);
  });

  it('refuses a publish on a channel not subscribed', async () => {
    await subscribed();
    await expect(mock.client.publish('other', 'm', 1)).rejects.toThrow(/subscribe to other/);
  });

  it('rejects at once what waits for a subscription that is refused, and what is published on it after', async () => {
    await subscribed();
    mock.refuse('private-r');
    mock.client.subscribe('private-r');
    const waiting = mock.client.publish('private-r', 'm', 1, { id: 'w' }).catch((e: unknown) => e);
    await mock.settle();
    expect(mock.client.channel('private-r')?.state).toBe('failed');
    expect(await waiting).toMatchObject({ message: expect.stringMatching(/private-r failed/) });
    expect(mock.client.pendingPublishes).toBe(0);
    await expect(mock.client.publish('private-r', 'm', 2)).rejects.toThrow(/private-r failed/);
    expect(mock.pendingPublishes).toEqual([]);
  });

  it('rejects at once the unsent publishes of a channel left, and sends none of them', async () => {
    await subscribed();
    await mock.disconnect();
    const p = mock.client.publish('private-c', 'm', 1, { id: 'gone' }).catch((e: unknown) => e);
    mock.client.unsubscribe('private-c');
    expect(await p).toMatchObject({ message: expect.stringMatching(/private-c was left/) });
    expect(mock.client.pendingPublishes).toBe(0);
  });

  it('persists waiting publishes and sends them again from a new client', async () => {
    const store = new MemoryOutboxStore();
    await subscribed({ outbox: { store } });
    await mock.disconnect();
    void mock.client.publish('private-c', 'msg', 'kept', { id: 'kept' }).catch(() => {});
    await mock.settle();
    expect((await store.load()).map((e) => e.id)).toEqual(['kept']);
    // The page reloads: a new client on the same store.
    const first = mock;
    first.client.connection.close();
    const second = await subscribed({ outbox: { store } });
    const published = vi.fn();
    second.client.on('published', published);
    expect(second.pendingPublishes.map((x) => x.id)).toEqual(['kept']);
    await second.ack('kept', 12);
    expect(published).toHaveBeenCalledWith({ id: 'kept', channel: 'private-c', serial: 12 });
    expect(await store.load()).toEqual([]);
  });
});

describe('IndexedDbOutboxStore', () => {
  beforeEach(() => vi.useRealTimers());
  it('keeps entries across instances and deletes them', async () => {
    const name = `test-${Math.random()}`;
    const a = new IndexedDbOutboxStore(name);
    const e = { id: 'x', channel: 'c', event: 'e', data: { n: 1 }, deadline: Date.now() + 1000, seq: 1 };
    await a.put(e);
    await a.put({ ...e, id: 'y', seq: 2 });
    const b = new IndexedDbOutboxStore(name);
    expect((await b.load()).map((x) => x.id).sort()).toEqual(['x', 'y']);
    await b.delete('x');
    expect((await a.load()).map((x) => x.id)).toEqual(['y']);
  });

  it('is used by default where indexedDB exists', async () => {
    // MockHerald picks memory explicitly; a plain Herald picks IndexedDB.
    const { Herald } = await import('../../src/index.js');
    const { FakeSocket } = await import('./fakes.js');
    const h = new Herald({ key: 'k-idb', url: 'http://x.invalid', WebSocket: FakeSocket, autoConnect: false });
    h.subscribe('c');
    void h.publish('c', 'e', 1, { id: 'persisted' }).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    const entries = await new IndexedDbOutboxStore('herald-outbox-k-idb').load();
    expect(entries.map((x) => x.id)).toEqual(['persisted']);
    h.close();
  });
});
