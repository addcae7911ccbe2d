import { MockHerald } from '@herald/testing';
import nacl from 'tweetnacl';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { naclDecryptor } from '../../src/encrypted.js';
import { OptimisticList, PublishRejectedError, Typing } from '../../src/index.js';

let mock: MockHerald;
beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  mock?.client.close();
  vi.useRealTimers();
});

async function room() {
  mock = new MockHerald({ user: { id: 'me' } });
  await mock.connect();
  const ch = mock.client.subscribe('presence-room');
  await mock.settle();
  return ch;
}

const typingSent = () => mock.sent.filter((f) => f.event === 'client-typing').map((f) => (f.data as { typing: boolean }).typing);

describe('Typing', () => {
  it('sends start at most once per throttle and stops by itself after idle', async () => {
    const typing = new Typing(await room(), { throttleMs: 2_000, idleMs: 3_000 });
    typing.typing();
    typing.typing();
    await vi.advanceTimersByTimeAsync(1_000);
    typing.typing();
    await mock.settle();
    expect(typingSent()).toEqual([true]);
    await vi.advanceTimersByTimeAsync(1_000);
    typing.typing();
    await mock.settle();
    expect(typingSent()).toEqual([true, true]);
    await vi.advanceTimersByTimeAsync(3_000);
    await mock.settle();
    expect(typingSent()).toEqual([true, true, false]);
    typing.dispose();
  });

  it('shows remote users, expires them and never shows self', async () => {
    const typing = new Typing(await room(), { expireMs: 5_000 });
    const changes: string[][] = [];
    typing.on('change', (u) => changes.push(u));
    await mock.emit('presence-room', 'client-typing', { typing: true }, { userId: 'alice' });
    await mock.emit('presence-room', 'client-typing', { typing: true }, { userId: 'me' });
    await mock.emit('presence-room', 'client-typing', { typing: true }, { userId: 'bob' });
    expect(typing.users).toEqual(['alice', 'bob']);
    await mock.emit('presence-room', 'client-typing', { typing: false }, { userId: 'bob' });
    expect(typing.users).toEqual(['alice']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(typing.users).toEqual([]);
    expect(changes).toEqual([['alice'], ['alice', 'bob'], ['alice'], []]);
    typing.dispose();
  });

  it('dispose clears remote timers and handlers', async () => {
    const ch = await room();
    const before = ch.handlerCount();
    const typing = new Typing(ch, { expireMs: 5_000 });
    await mock.emit('presence-room', 'client-typing', { typing: true }, { userId: 'alice' });
    typing.dispose();
    expect(ch.handlerCount()).toBe(before);
    expect(typing.users).toEqual([]);
  });
});

describe('OptimisticList', () => {
  it('shows pending, confirms with the serial of the ack', async () => {
    const ch = await room();
    const list = new OptimisticList<string>();
    const p = list.submit('m1', 'hello', (id) => ch.publish('msg', 'hello', { id }));
    expect(list.items).toEqual([{ id: 'm1', value: 'hello', status: 'pending' }]);
    await mock.settle();
    await mock.ack('m1', 31);
    await expect(p).resolves.toEqual({ id: 'm1', value: 'hello', status: 'confirmed', serial: 31 });
    expect(list.items).toEqual([{ id: 'm1', value: 'hello', status: 'confirmed', serial: 31 }]);
    // The same message arriving live (another tab) is not shown twice.
    list.receive('other-id', 'hello', 31);
    expect(list.items).toHaveLength(1);
    list.receive('m2', 'world', 32);
    expect(list.items.map((i) => i.value)).toEqual(['hello', 'world']);
  });

  it('rolls back on a nack', async () => {
    const ch = await room();
    const list = new OptimisticList<string>();
    const rolled = vi.fn();
    list.on('rolled_back', rolled);
    const p = list.submit('m1', 'hello', (id) => ch.publish('msg', 'hello', { id }));
    await mock.settle();
    await mock.nack('m1', 4400, 'too big');
    await expect(p).rejects.toBeInstanceOf(PublishRejectedError);
    expect(list.items).toEqual([]);
    expect(rolled).toHaveBeenCalledOnce();
  });

  it('rolls back on the deadline', async () => {
    const ch = await room();
    await mock.disconnect();
    const list = new OptimisticList<string>();
    const p = list.submit('m1', 'hello', (id) => ch.publish('msg', 'hello', { id, deadlineMs: 1_000 })).catch((e: Error) => e.name);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await p).toBe('PublishTimeoutError');
    expect(list.items).toEqual([]);
  });
});

describe('naclDecryptor', () => {
  it('opens what a Pusher server SDK encrypts', () => {
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const box = nacl.secretbox(new TextEncoder().encode('{"secret":true}'), nonce, key);
    const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
    const data = JSON.stringify({ nonce: b64(nonce), ciphertext: b64(box) });
    expect(naclDecryptor(b64(key), data)).toEqual({ secret: true });
    expect(() => naclDecryptor(b64(nacl.randomBytes(32)), data)).toThrow(/could not be decrypted/);
  });
});
