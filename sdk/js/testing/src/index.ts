/**
 * MockHerald: a real Herald client on an in-memory server that unit tests
 * drive.
 *
 * @module @herald/testing
 */
import { type ChannelAuth, Herald, type HeraldOptions, MemoryOutboxStore, type WebSocketLike } from '@herald/client';

import { HeraldScript, type ScriptOptions, type SentFrame } from './script.js';

export { HeraldScript } from './script.js';
export type { ScriptOptions, SentFrame, SentPublish, ServerFrame } from './script.js';

export interface MockHeraldOptions extends Partial<HeraldOptions>, ScriptOptions {
  /** Connect as soon as the client is made (default true). */
  autoConnect?: boolean;
}

/** Rounds of microtasks a helper waits, so that async client steps (authorization) finish. */
const SETTLE_ROUNDS = 20;

class MockSocket implements WebSocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  open = true;
  constructor(
    readonly url: string,
    private readonly server: MockHerald,
  ) {}
  send(data: string): void {
    // A server answers later, never inside the client's own call.
    const f = JSON.parse(data) as SentFrame;
    if (this.open) queueMicrotask(() => this.server.receive(this, f));
  }
  close(): void {
    this.open = false;
  }
}

/**
 * A Herald server in memory for unit tests: `mock.client` is a real
 * `Herald` (give it to the code under test); the mock drives its
 * connection, messages, presence, acks and nacks. Every helper returns a
 * promise that settles once the client has reacted, so
 * `await act(() => mock.emit(…))` works under React Testing Library.
 */
export class MockHerald {
  readonly client: Herald;
  private readonly script: HeraldScript;
  private socket: MockSocket | undefined;
  private socketCounter = 0;
  /** Between disconnect() and connect(): the server is unreachable. */
  private down = false;

  constructor(opts: MockHeraldOptions = {}) {
    this.script = new HeraldScript(opts, (frame) => this.socket?.onmessage?.({ data: JSON.stringify(frame) }));
    const user = opts.user ?? { id: 'me', info: {} };
    const authorizer = async (channel: string): Promise<ChannelAuth> =>
      channel.startsWith('presence-')
        ? { auth: 'mock:auth', channel_data: JSON.stringify({ user_id: user.id, user_info: user.info ?? {} }) }
        : { auth: 'mock:auth' };
    const server = this;
    this.client = new Herald({
      key: 'mock-key',
      url: 'http://mock.invalid',
      authorizer,
      ...opts,
      outbox: { store: new MemoryOutboxStore(), ...opts.outbox },
      WebSocket: class extends MockSocket {
        constructor(url: string) {
          super(url, server);
          server.socket = this;
          if (opts.autoConnect !== false && !server.down) queueMicrotask(() => server.establish());
        }
      },
      environment: opts.environment ?? { isOnline: () => true, watch: () => () => {} },
      autoConnect: true,
    });
  }

  /** Every frame the client sent, oldest first. */
  get sent(): SentFrame[] {
    return this.script.sent;
  }

  /** Publishes not yet acked or nacked. */
  get pendingPublishes(): HeraldScript['pendingPublishes'] {
    return this.script.pendingPublishes;
  }

  /** The channels the client is subscribed to on the mock server. */
  get channels(): string[] {
    return this.script.channels;
  }

  /**
   * Makes the server reachable again and connects the client now (its
   * pending attempt, or a new one without waiting for its backoff).
   */
  async connect(): Promise<void> {
    this.down = false;
    if (this.client.connection.state !== 'connected') {
      if (this.socket?.open) this.establish();
      else if (this.client.connection.state === 'initialized' || this.client.connection.state === 'disconnected' || this.client.connection.state === 'failed') this.client.connect();
      else this.client.connection.check();
      await this.settle();
      this.establish();
    }
    await this.settle();
  }

  /**
   * Cuts the connection with a close code (default 1006: the network); the
   * server stays unreachable (attempts are not answered) until connect().
   */
  async disconnect(code = 1006, reason = 'mock disconnect'): Promise<void> {
    this.down = true;
    const s = this.socket;
    this.socket = undefined;
    this.script.lost();
    if (s) {
      s.open = false;
      s.onclose?.({ code, reason });
    }
    await this.settle();
  }

  /** Delivers an event on a channel, with the next serial unless given. */
  async emit(channel: string, event: string, data: unknown, meta: { serial?: number; userId?: string } = {}): Promise<number> {
    const serial = this.script.emit(channel, event, data, meta);
    await this.settle();
    return serial;
  }

  /** Sets a presence channel's members (before or after the client joins). */
  async setMembers(channel: string, members: Record<string, unknown>): Promise<void> {
    this.script.setMembers(channel, members);
    await this.settle();
  }

  async memberAdded(channel: string, id: string, info: unknown = {}): Promise<void> {
    this.script.memberAdded(channel, id, info);
    await this.settle();
  }

  async memberRemoved(channel: string, id: string): Promise<void> {
    this.script.memberRemoved(channel, id);
    await this.settle();
  }

  /** Refuses the next subscribe to channel with a subscription_error. */
  refuse(channel: string, error = { type: 'AuthError', error: 'refused by MockHerald', status: 401 }): void {
    this.script.refuse(channel, error);
  }

  /** Acks a publish (the oldest pending one unless id is given). */
  async ack(id?: string, serial?: number): Promise<number> {
    const s = this.script.ack(id, serial);
    await this.settle();
    return s;
  }

  /** Nacks a publish (the oldest pending one unless id is given). */
  async nack(id?: string, code = 4400, message = 'refused by MockHerald'): Promise<void> {
    this.script.nack(id, code, message);
    await this.settle();
  }

  /** Waits until the client reacted to everything so far. */
  async settle(): Promise<void> {
    for (let i = 0; i < SETTLE_ROUNDS; i++) await Promise.resolve();
  }

  /** @internal Called by the mock socket. */
  receive(socket: MockSocket, f: SentFrame): void {
    if (socket === this.socket) this.script.receive(f);
  }

  private establish(): void {
    if (!this.socket?.open || this.client.connection.state === 'connected') return;
    this.socketCounter++;
    this.script.established(`1.${this.socketCounter}`);
  }
}
