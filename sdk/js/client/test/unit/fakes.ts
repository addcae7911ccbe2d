import type { Environment, WebSocketLike } from '../../src/index.js';

/** A WebSocket double: records what the client sends; the test plays the server. */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Array<{ event: string; channel?: string; data?: any }> = [];
  closed = false;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static reset(): void {
    FakeSocket.all = [];
  }

  static get last(): FakeSocket {
    const s = FakeSocket.all.at(-1);
    if (!s) throw new Error('no socket was opened');
    return s;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closed = true;
  }

  frame(f: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }

  establish(socketId = '1.1', activityTimeout = 120): void {
    this.frame({
      event: 'pusher:connection_established',
      data: JSON.stringify({ socket_id: socketId, activity_timeout: activityTimeout }),
    });
  }

  serverClose(code: number, reason = ''): void {
    this.closed = true;
    this.onclose?.({ code, reason });
  }

  events(name: string): Array<{ event: string; channel?: string; data?: any }> {
    return this.sent.filter((f) => f.event === name);
  }
}

/** An environment the test switches online and offline. */
export class FakeEnvironment implements Environment {
  online = true;
  private h: { online(): void; offline(): void; visible(): void } | undefined;
  isOnline(): boolean {
    return this.online;
  }
  watch(h: { online(): void; offline(): void; visible(): void }): () => void {
    this.h = h;
    return () => {
      this.h = undefined;
    };
  }
  goOffline(): void {
    this.online = false;
    this.h?.offline();
  }
  goOnline(): void {
    this.online = true;
    this.h?.online();
  }
  becomeVisible(): void {
    this.h?.visible();
  }
  get watched(): boolean {
    return this.h !== undefined;
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
