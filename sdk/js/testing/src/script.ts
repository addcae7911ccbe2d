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

/** How a scripted server answers on its own. */
export interface ScriptOptions {
  /** Answer every subscribe with success (default true). */
  autoSubscribe?: boolean;
  /** Ack every publish at once (default false: call ack()). */
  autoAck?: boolean;
  /** This user's presence id and info (default `me`, `{}`). */
  user?: { id: string; info?: unknown };
}

/** A frame the server sends. */
export type ServerFrame = Record<string, unknown>;

/** The activity_timeout a scripted server announces (seconds). */
const ACTIVITY_TIMEOUT_S = 120;

/**
 * The server side of the Herald protocol as tests script it, whatever
 * carries the frames (MockHerald's in-memory socket, Mock Service
 * Worker's WebSocket interception): it answers pings and subscribes
 * (with presence rosters), holds publishes until the test acks or nacks
 * them, and delivers events with serials. `send` carries each frame to
 * the client of the moment.
 */
export class HeraldScript {
  /** Every frame the client sent, oldest first. */
  readonly sent: SentFrame[] = [];
  /** Publishes not yet acked or nacked. */
  readonly pendingPublishes: SentPublish[] = [];
  private serial = 0;
  private readonly subscribed = new Set<string>();
  private readonly rosters = new Map<string, Map<string, unknown>>();
  private readonly refusals = new Map<string, { type: string; error: string; status: number }>();

  /** send carries each frame to the client; without it a subclass overrides send(). */
  constructor(
    private readonly opts: ScriptOptions,
    private readonly sink?: (frame: ServerFrame) => void,
  ) {}

  /** Sends a frame to the client of the moment. */
  protected send(frame: ServerFrame): void {
    this.sink?.(frame);
  }

  /** The channels the client is subscribed to. */
  get channels(): string[] {
    return [...this.subscribed];
  }

  /** Announces a new connection. */
  established(socketId: string): void {
    this.send({
      event: 'pusher:connection_established',
      data: JSON.stringify({ socket_id: socketId, activity_timeout: ACTIVITY_TIMEOUT_S }),
    });
  }

  /** The connection is gone: its subscriptions with it. */
  lost(): void {
    this.subscribed.clear();
  }

  /** Answers a frame of the client. */
  receive(f: SentFrame): void {
    this.sent.push(f);
    const d = (f.data ?? {}) as Record<string, unknown>;
    switch (f.event) {
      case 'pusher:ping':
        this.send({ event: 'pusher:pong', data: '{}' });
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
        if (this.opts.autoAck) queueMicrotask(() => this.ack(p.id));
        return;
      }
    }
  }

  /** Delivers an event on a channel, with the next serial unless given; returns the serial. */
  emit(channel: string, event: string, data: unknown, meta: { serial?: number; userId?: string } = {}): number {
    const serial = meta.serial ?? ++this.serial;
    this.serial = Math.max(this.serial, serial);
    const frame: ServerFrame = { event, channel, data: typeof data === 'string' ? data : JSON.stringify(data), serial };
    if (meta.userId !== undefined) frame.user_id = meta.userId;
    this.send(frame);
    return serial;
  }

  /** Sets a presence channel's members (before or after the client joins). */
  setMembers(channel: string, members: Record<string, unknown>): void {
    this.rosters.set(channel, new Map(Object.entries(members)));
  }

  memberAdded(channel: string, id: string, info: unknown = {}): void {
    this.roster(channel).set(id, info);
    this.send({ event: 'pusher_internal:member_added', channel, data: JSON.stringify({ user_id: id, user_info: info }) });
  }

  memberRemoved(channel: string, id: string): void {
    this.roster(channel).delete(id);
    this.send({ event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: id }) });
  }

  /** Refuses the next subscribe to channel with a subscription_error. */
  refuse(channel: string, error = { type: 'AuthError', error: 'refused by the test', status: 401 }): void {
    this.refusals.set(channel, error);
  }

  /** Acks a publish (the oldest pending one unless id is given); returns its serial. */
  ack(id?: string, serial?: number): number {
    const p = this.takePublish(id);
    const s = serial ?? ++this.serial;
    this.serial = Math.max(this.serial, s);
    this.send({ event: 'herald_internal:ack', data: JSON.stringify({ id: p.id, serial: s }) });
    return s;
  }

  /** Nacks a publish (the oldest pending one unless id is given). */
  nack(id?: string, code = 4400, message = 'refused by the test'): void {
    const p = this.takePublish(id);
    this.send({ event: 'herald_internal:nack', data: JSON.stringify({ id: p.id, code, message }) });
  }

  private onSubscribe(channel: string): void {
    const refusal = this.refusals.get(channel);
    if (refusal) {
      this.refusals.delete(channel);
      this.send({ event: 'pusher:subscription_error', channel, data: JSON.stringify(refusal) });
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
    this.send({ event: 'pusher_internal:subscription_succeeded', channel, data });
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
}
