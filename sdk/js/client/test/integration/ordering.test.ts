import { WebSocket } from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { WebSocketConstructor } from '../../src/index.js';
import { type App, client, closeClients, createApp, signChannel, uniqueName, until } from './lib.js';

// A client publishing faster than its app's client_event_rate: the server
// refuses some publishes for now (4301) and the client retries them.

afterEach(() => closeClients());

/** The app's client message rate (per second, and the bucket's size). */
const RATE = 5;
/** Four times the rate: three rounds of 4301s. */
const PUBLISHES = 20;

let app: App;
beforeAll(async () => {
  app = await createApp({ client_events: true, client_event_rate: RATE });
});

/** A ws WebSocket that counts the herald:publish frames it sends. */
function countingWebSocket(): { WS: WebSocketConstructor; frames: () => number } {
  let n = 0;
  class Counting extends WebSocket {
    override send(data: string): void {
      if (data.includes('"herald:publish"')) n++;
      super.send(data);
    }
  }
  return { WS: Counting as unknown as WebSocketConstructor, frames: () => n };
}

describe('publishing over the rate', () => {
  it('stores a channel’s publishes in the order they were published, and retries without resending the backlog', async () => {
    const authorizer = async (channel: string, socketId: string) => signChannel(app, socketId, channel);
    const name = uniqueName('private-rate');
    const { WS, frames } = countingWebSocket();
    const h = client({ app, authorizer, WebSocket: WS });
    const observer = client({ app, authorizer });
    const seen: number[] = [];
    observer.subscribe(name).bind('m', (d) => seen.push((d as { i: number }).i));
    h.subscribe(name);
    await until('subscribed', () => h.channel(name)?.state === 'subscribed' && observer.channel(name)?.state === 'subscribed');
    const acks = Array.from({ length: PUBLISHES }, (_, i) => h.publish(name, 'm', { i }));
    const serials = (await Promise.all(acks)).map((a) => a.serial);
    await until('every publish delivered', () => seen.length === PUBLISHES);
    const order = Array.from({ length: PUBLISHES }, (_, i) => i);
    expect(seen).toEqual(order);
    expect(serials).toEqual([...serials].sort((a, b) => a - b));
    // Each publish once, plus one refused head per retry round; resending
    // the whole backlog each second would take 20+15+10+5 frames.
    expect(frames()).toBeLessThan(PUBLISHES + PUBLISHES / RATE * 2);
  }, 20_000);
});
