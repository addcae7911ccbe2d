/**
 * MockHerald: a real Herald client on an in-memory server that unit tests
 * drive.
 *
 * @module @herald/testing
 */
import { type ChannelAuth, Herald, type HeraldOptions, MemoryOutboxStore, type WebSocketLike } from '@herald/client';

/** A frame the client sent, parsed. */
export interface SentFrame {
  event: string;
  channel?: string;
  data?: unknown;
}

/** A `herald:publish` the client sent. */
export interface SentPublish {
  id: string;
  channel: string;
  event: string;
  data: unknown;
}

export interface MockHeraldOptions extends Partial<HeraldOptions> {
  /** Connect as soon as the client is made (default true). */
  autoConnect?: boolean;
  /** Answer every subscribe with success (default true). */
  autoSubscribe?: boolean;
  /** Ack every publish at once (default false: call ack()). */
  autoAck?: boolean;
  /** This user's presence id and info (default `me`, `{}`). */
  user?: { id: string; info?: unknown };
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
  /** Every frame the client sent, oldest first. */
  readonly sent: SentFrame[] = [];
  /** Publishes not yet acked or nacked. */
  readonly pendingPublishes: SentPublish[] = [];
  private socket: MockSocket | undefined;
  private socketCounter = 0;
  /** Between disconnect() and connect(): the server is unreachable. */
  private down = false;
  private serial = 0;
  private readonly subscribed = new Set<string>();
  private readonly rosters = new Map<string, Map<string, unknown>>();
  private readonly refusals = new Map<string, { type: string; error: string; status: number }>();
  private readonly opts: MockHeraldOptions;

  constructor(opts: MockHeraldOptions = {}) {
    this.opts = opts;
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

  /** The channels the client is subscribed to on the mock server. */
  get channels(): string[] {
    return [...this.subscribed];
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
    this.subscribed.clear();
    if (s) {
      s.open = false;
      s.onclose?.({ code, reason });
    }
    await this.settle();
  }

  /** Delivers an event on a channel, with the next serial unless given. */
  async emit(channel: string, event: string, data: unknown, meta: { serial?: number; userId?: string } = {}): Promise<number> {
    const serial = meta.serial ?? ++this.serial;
    this.serial = Math.max(this.serial, serial);
    const frame: Record<string, unknown> = { event, channel, data: typeof data === 'string' ? data : JSON.stringify(data), serial };
    if (meta.userId !== undefined) frame.user_id = meta.userId;
    this.deliver(frame);
    await this.settle();
    return serial;
  }

  /** Sets a presence channel's members (before or after the client joins). */
  async setMembers(channel: string, members: Record<string, unknown>): Promise<void> {
    this.rosters.set(channel, new Map(Object.entries(members)));
    await this.settle();
  }

  async memberAdded(channel: string, id: string, info: unknown = {}): Promise<void> {
    this.roster(channel).set(id, info);
    this.deliver({ event: 'pusher_internal:member_added', channel, data: JSON.stringify({ user_id: id, user_info: info }) });
    await this.settle();
  }

  async memberRemoved(channel: string, id: string): Promise<void> {
    this.roster(channel).delete(id);
    this.deliver({ event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: id }) });
    await this.settle();
  }

  /** Refuses the next subscribe to channel with a subscription_error. */
  refuse(channel: string, error = { type: 'AuthError', error: 'refused by MockHerald', status: 401 }): void {
    this.refusals.set(channel, error);
  }

  /** Acks a publish (the oldest pending one unless id is given). */
  async ack(id?: string, serial?: number): Promise<number> {
    const p = this.takePublish(id);
    const s = serial ?? ++this.serial;
    this.serial = Math.max(this.serial, s);
    this.deliver({ event: 'herald_internal:ack', data: JSON.stringify({ id: p.id, serial: s }) });
    await this.settle();
    return s;
  }

  /** Nacks a publish (the oldest pending one unless id is given). */
  async nack(id?: string, code = 4400, message = 'refused by MockHerald'): Promise<void> {
    const p = this.takePublish(id);
    this.deliver({ event: 'herald_internal:nack', data: JSON.stringify({ id: p.id, code, message }) });
    await this.settle();
  }

  /** Waits until the client reacted to everything so far. */
  async settle(): Promise<void> {
    for (let i = 0; i < SETTLE_ROUNDS; i++) await Promise.resolve();
  }

  /** @internal Called by the mock socket. */
  receive(socket: MockSocket, f: SentFrame): void {
    if (socket !== this.socket) return;
    this.sent.push(f);
    const d = (f.data ?? {}) as Record<string, unknown>;
    switch (f.event) {
      case 'pusher:ping':
        this.deliver({ event: 'pusher:pong', data: '{}' });
        return;
      case 'pusher:subscribe':
        this.onSubscribe(String(d.channel));
        return;
      case 'pusher:unsubscribe':
        this.subscribed.delete(String(d.channel));
        return;
      case 'herald:publish': {
        const p: SentPublish = { id: String(d.id), channel: String(d.channel), event: String(d.event), data: d.data };
        this.pendingPublishes.push(p);
        if (this.opts.autoAck) queueMicrotask(() => void this.ack(p.id));
        return;
      }
    }
  }

  private establish(): void {
    if (!this.socket?.open || this.client.connection.state === 'connected') return;
    this.socketCounter++;
    this.deliver({
      event: 'pusher:connection_established',
      data: JSON.stringify({ socket_id: `1.${this.socketCounter}`, activity_timeout: 120 }),
    });
  }

  private onSubscribe(channel: string): void {
    const refusal = this.refusals.get(channel);
    if (refusal) {
      this.refusals.delete(channel);
      this.deliver({ event: 'pusher:subscription_error', channel, data: JSON.stringify(refusal) });
      return;
    }
    if (this.opts.autoSubscribe === false) return;
    this.subscribed.add(channel);
    let data = '{}';
    if (channel.startsWith('presence-')) {
      const roster = this.roster(channel);
      const me = this.opts.user ?? { id: 'me', info: {} };
      if (!roster.has(me.id)) roster.set(me.id, me.info ?? {});
      data = JSON.stringify({
        presence: { ids: [...roster.keys()], hash: Object.fromEntries(roster), count: roster.size },
      });
    }
    this.deliver({ event: 'pusher_internal:subscription_succeeded', channel, data });
  }

  private roster(channel: string): Map<string, unknown> {
    let r = this.rosters.get(channel);
    if (!r) this.rosters.set(channel, (r = new Map()));
    return r;
  }

  private takePublish(id?: string): SentPublish {
    const i = id === undefined ? 0 : this.pendingPublishes.findIndex((p) => p.id === id);
    const p = this.pendingPublishes[i];
    if (i < 0 || !p) throw new Error(id === undefined ? 'no publish is pending' : `no pending publish ${id}`);
    this.pendingPublishes.splice(i, 1);
    return p;
  }

  private deliver(frame: Record<string, unknown>): void {
    this.socket?.onmessage?.({ data: JSON.stringify(frame) });
  }
}
