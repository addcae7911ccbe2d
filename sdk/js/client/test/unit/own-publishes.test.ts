import { MockHerald } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

import { type Channel, MemoryOutboxStore } from '../../src/index.js';
import { OWN_SERIALS_MAX, OwnSerials } from '../../src/own.js';

// The server never sends a connection its own acked publishes live, but a
// resume replay (or a history fill) does: the channel must skip them, and
// only them.

let mock: MockHerald;
afterEach(() => mock?.client.close());

/** A subscribed private channel whose deliveries (serials, and `resumed` as -1) are recorded. */
async function recorded(name = 'private-c'): Promise<{ ch: Channel; got: number[] }> {
  mock = new MockHerald();
  await mock.connect();
  const ch = mock.client.subscribe(name);
  await mock.settle();
  const got: number[] = [];
  ch.bind_global((_e, _d, m) => got.push(m.serial ?? 0));
  ch.on('resumed', () => got.push(-1));
  return { ch, got };
}

describe('own publishes after a reconnection', () => {
  it('skips every own message a resume replays, however many were published since the last one received', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 1 });
    // 300 acked publishes and nothing received: the position stays at 1.
    const own: number[] = [];
    for (let i = 0; i < 300; i++) {
      const p = mock.client.publish('private-c', 'm', i, { id: `p${i}` });
      await mock.settle();
      await mock.ack(`p${i}`, 2 + i);
      own.push((await p).serial);
    }
    await mock.disconnect();
    await mock.connect();
    expect(mock.sent.filter((f) => f.event === 'pusher:subscribe').at(-1)?.data).toMatchObject({ channel: 'private-c', resume_from: 1 });
    for (const s of own) await mock.emit('private-c', 'm', 'replayed', { serial: s });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    await mock.emit('private-c', 'm', 'other', { serial: 302 });
    // 256 used to be remembered: the oldest 44 came back.
    expect(got).toEqual([1, -1, 302]);
  });

  it('own serials do not hide messages from others, before or after them', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 10 });
    const p = mock.client.publish('private-c', 'm', 'mine', { id: 'mine' });
    await mock.settle();
    await mock.ack('mine', 12);
    await p;
    // Another client's 11 arrives after the ack of 12 (it was in flight).
    await mock.emit('private-c', 'm', 'other', { serial: 11 });
    await mock.disconnect();
    await mock.connect();
    for (const s of [12, 13]) await mock.emit('private-c', 'm', 'replayed', { serial: s });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    expect(got).toEqual([10, 11, 13, -1]);
  });

  it('holds a replay until the resent publishes are acked, so that an ack lost in the cut does not bring its message back', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 1 });
    const p = mock.client.publish('private-c', 'm', 'mine', { id: 'lost-ack' });
    await mock.settle();
    // Stored as 2, but the connection is cut before the ack arrives.
    mock.pendingPublishes.length = 0;
    await mock.disconnect();
    await mock.connect();
    expect(mock.pendingPublishes.map((x) => x.id)).toEqual(['lost-ack']);
    // The replay (2 is ours) and a live message come before the resent
    // publish's ack: held, not delivered.
    await mock.emit('private-c', 'm', 'replayed', { serial: 2 });
    await mock.emit('private-c', 'm', 'replayed', { serial: 3 });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    await mock.emit('private-c', 'm', 'live', { serial: 4 });
    expect(got).toEqual([1]);
    // The server de-duplicates the resend and acks with the original serial.
    await mock.ack('lost-ack', 2);
    await expect(p).resolves.toEqual({ serial: 2 });
    expect(got).toEqual([1, 3, -1, 4]);
    // Live messages are no longer held.
    await mock.emit('private-c', 'm', 'live', { serial: 5 });
    expect(got).toEqual([1, 3, -1, 4, 5]);
  });

  it('releases what it held when a resent publish fails instead', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 1 });
    const p = mock.client.publish('private-c', 'm', 'mine', { id: 'refused' }).catch((e: unknown) => e);
    await mock.settle();
    mock.pendingPublishes.length = 0;
    await mock.disconnect();
    await mock.connect();
    await mock.emit('private-c', 'm', 'replayed', { serial: 2 });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    expect(got).toEqual([1]);
    await mock.nack('refused', 4400, 'too large');
    expect(await p).toMatchObject({ code: 4400 });
    expect(got).toEqual([1, 2, -1]);
  });

  it('loses nothing it held when the connection drops again: the next resume starts before it', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 1 });
    const p = mock.client.publish('private-c', 'm', 'mine', { id: 'twice' });
    await mock.settle();
    mock.pendingPublishes.length = 0;
    await mock.disconnect();
    await mock.connect();
    await mock.emit('private-c', 'm', 'replayed', { serial: 2 });
    await mock.emit('private-c', 'm', 'replayed', { serial: 3 });
    mock.pendingPublishes.length = 0;
    await mock.disconnect();
    await mock.connect();
    expect(mock.sent.filter((f) => f.event === 'pusher:subscribe').at(-1)?.data).toMatchObject({ channel: 'private-c', resume_from: 1 });
    await mock.emit('private-c', 'm', 'replayed', { serial: 2 });
    await mock.emit('private-c', 'm', 'replayed', { serial: 3 });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    await mock.ack('twice', 2);
    await p;
    expect(got).toEqual([1, 3, -1]);
  });

  it('a publish restored from an earlier page holds the first replay until it is acked: that page may have sent it', async () => {
    const store = new MemoryOutboxStore();
    const earlier = new MockHerald({ outbox: { store } });
    await earlier.connect();
    earlier.client.subscribe('private-c');
    await earlier.settle();
    earlier.client.publish('private-c', 'm', 'mine', { id: 'reloaded' }).catch(() => {});
    await earlier.settle();
    expect(earlier.pendingPublishes.map((x) => x.id)).toEqual(['reloaded']);
    // The page reloads before the ack (the server stored it as 7).
    earlier.client.connection.close();
    mock = new MockHerald({ outbox: { store } });
    await mock.connect();
    const ch = mock.client.subscribe('private-c', { rewind: 10 });
    const got: number[] = [];
    ch.bind_global((_e, _d, m) => got.push(m.serial ?? 0));
    await mock.settle();
    await mock.emit('private-c', 'm', 'rewound', { serial: 6 });
    await mock.emit('private-c', 'm', 'rewound', { serial: 7 });
    expect(got).toEqual([]);
    await mock.ack('reloaded', 7);
    expect(got).toEqual([6]);
  });

  it('a publish first sent after the reconnection holds nothing', async () => {
    const { got } = await recorded();
    await mock.emit('private-c', 'm', 'other', { serial: 1 });
    await mock.disconnect();
    mock.client.publish('private-c', 'm', 'queued', { id: 'queued' }).catch(() => {});
    await mock.connect();
    await mock.emit('private-c', 'm', 'replayed', { serial: 2 });
    await mock.emit('private-c', 'herald_internal:resume_result', { recovered: true });
    expect(got).toEqual([1, 2, -1]);
  });
});

describe('OwnSerials', () => {
  it('keeps the serials above the position, in order, and forgets them as it passes them', () => {
    const own = new OwnSerials();
    for (const s of [5, 3, 9, 7, 7]) own.add(s, 2);
    own.add(1, 2); // at or below the position: nothing brings it back
    expect(own.list()).toEqual([3, 5, 7, 9]);
    expect(own.take(4)).toBe(false);
    expect(own.list()).toEqual([5, 7, 9]);
    expect(own.take(7)).toBe(true);
    expect(own.list()).toEqual([9]);
    own.replace([2, 1, 2]);
    expect(own.list()).toEqual([1, 2]);
  });

  it('is bounded, dropping the oldest', () => {
    const own = new OwnSerials();
    for (let s = 1; s <= OWN_SERIALS_MAX + 10; s++) own.add(s, undefined);
    expect(own.size).toBe(OWN_SERIALS_MAX);
    expect(own.list()[0]).toBe(11);
    expect(own.take(OWN_SERIALS_MAX)).toBe(true);
    expect(own.size).toBe(10);
  });
});
