import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame, dataObject, parseData } from './frames.js';
import type { HistoryOptions, HistoryPage } from './history.js';
import { OWN_SERIALS_MAX, OwnSerials } from './own.js';

/** A channel's subscription state. */
export type ChannelState = 'subscribing' | 'subscribed' | 'failed' | 'unsubscribed';

/** What comes with each event besides its data. */
export interface MessageMeta {
  channel: string;
  event: string;
  /** Herald: the message's position in the message stream (absent on client events of plain Pusher servers). */
  serial?: number;
  /** The sender's user id (client events on presence channels). */
  userId?: string;
}

/** A map of event names to their data types, for typed binds. */
export type EventMap = Record<string, unknown>;

/** The outcome of a resume after a reconnect. */
export interface ResumeResult {
  /** Whether the server replayed everything missed. */
  recovered: boolean;
  /**
   * When not recovered: whether the gap was filled from history (else the
   * app should refetch). Never after the server said the channel's position
   * no longer exists (its message stream was reset): the channel starts
   * over from the live messages.
   */
  filled: boolean;
}

/** `herald_internal:resume_result`'s data (docs/protocol.md). */
interface ResumeResultData {
  recovered: boolean;
  /** The position is beyond the channel's newest stored message: it no longer exists. */
  reset: boolean;
}

/** A refused subscribe (`pusher:subscription_error`), or a failed authorization. */
export interface SubscriptionError {
  type: string;
  error: string;
  status?: number;
}

export interface ChannelEvents {
  subscribed: void;
  resumed: ResumeResult;
  error: SubscriptionError;
  state: ChannelState;
  subscription_count: number;
  cache_miss: void;
}

/** What a channel needs from its client. @internal */
export interface ChannelHost {
  trigger(channel: string, event: string, data: unknown): boolean;
  history(channel: string, opts: HistoryOptions): Promise<HistoryPage>;
  publish(channel: string, event: string, data: unknown, opts?: { id?: string; deadlineMs?: number }): Promise<{ serial: number }>;
  /** Fills the gap after a resume that was not recovered; false when history is not allowed. */
  fillGap(channel: Channel): Promise<boolean>;
  decrypt(channel: Channel, data: unknown): unknown;
  /** Every delivered event, for the client's global handlers. */
  delivered(event: string, data: unknown, meta: MessageMeta): void;
}

/**
 * The most frames a channel holds while it waits for the acks of publishes
 * resent after a reconnection (twice the server's longest resume replay).
 * Beyond it they are delivered without waiting: one of the channel's own
 * messages may then come back to it, which is better than holding without
 * limit.
 */
const ACK_WAIT_MAX_FRAMES = 20_000;

type Handler = (data: never, meta: MessageMeta) => void;
type GlobalHandler = (event: string, data: unknown, meta: MessageMeta) => void;

/**
 * A subscribed channel. Events are delivered once each and in serial
 * order, across reconnections, resumes and history gap fills.
 */
export class Channel<E extends EventMap = EventMap> extends Emitter<ChannelEvents> {
  private _state: ChannelState = 'subscribing';
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly globals = new Set<GlobalHandler>();
  private readonly own = new OwnSerials();
  /**
   * The own serials acked between a resume's subscribe and its result: if
   * the server says the old position no longer exists, they are the ones
   * of the stream as it now is.
   */
  private ownSinceResume: number[] | undefined;
  /** Live frames held while a gap fill reads history. */
  private buffered: Frame[] | undefined;
  /** The ids of resent publishes whose acks deliveries wait for. */
  private awaitedAcks: Set<string> | undefined;
  /** What waits for those acks: frames to deliver and events to emit, in order. */
  private heldForAcks: Array<Frame | (() => void)> | undefined;
  /** Bumped when the connection drops: a gap fill of an older resume ends quietly. */
  private fillGeneration = 0;
  /** The last serial delivered. @internal */
  lastSerial: number | undefined;
  /** When the connection was lost, for rewind on resume. @internal */
  lostAt: number | undefined;
  /** Whether the server accepted a subscribe once. @internal */
  everSubscribed = false;
  /** An encrypted channel's key (base64), from its authorization. @internal */
  sharedSecret: string | undefined;
  /** The latest `subscription_count`, when the server sent one. */
  subscriptionCount: number | undefined;

  /** @internal */
  constructor(
    readonly name: string,
    /** @internal */ readonly options: { rewind?: number },
    /** @internal */ protected readonly host: ChannelHost,
  ) {
    super();
  }

  get state(): ChannelState {
    return this._state;
  }

  /** Calls fn for each `event`, with data parsed as JSON where it is JSON. */
  bind<K extends keyof E & string>(event: K, fn: (data: E[K], meta: MessageMeta) => void): Unsubscribe {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(fn as Handler);
    return () => this.unbind(event, fn);
  }

  /** Removes fn, or every handler of event when fn is absent. */
  unbind<K extends keyof E & string>(event: K, fn?: (data: E[K], meta: MessageMeta) => void): void {
    const set = this.handlers.get(event);
    if (!set) return;
    if (fn) set.delete(fn as Handler);
    if (!fn || set.size === 0) this.handlers.delete(event);
  }

  /** Calls fn for every event of the channel. */
  bind_global(fn: GlobalHandler): Unsubscribe {
    this.globals.add(fn);
    return () => this.globals.delete(fn);
  }

  unbind_global(fn?: GlobalHandler): void {
    if (fn) this.globals.delete(fn);
    else this.globals.clear();
  }

  /** Sends a client event (`client-…`, private and presence channels); false when not subscribed. */
  trigger(event: `client-${string}`, data: unknown): boolean {
    return this._state === 'subscribed' && this.host.trigger(this.name, event, data);
  }

  /** An acknowledged publish on this channel (see Herald.publish). */
  publish(event: string, data: unknown, opts?: { id?: string; deadlineMs?: number }): Promise<{ serial: number }> {
    return this.host.publish(this.name, event, data, opts);
  }

  /** A page of the channel's history (needs a token with `history`). */
  history(opts: HistoryOptions = {}): Promise<HistoryPage> {
    return this.host.history(this.name, opts);
  }

  /** How many handlers are bound, for leak checks. */
  handlerCount(): number {
    let n = this.globals.size + this.listenerCount();
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  /** @internal */
  setState(state: ChannelState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  /** @internal The server stored one of our publishes: never deliver it back. */
  noteOwnSerial(serial: number): void {
    this.own.add(serial, this.lastSerial);
    if (this.ownSinceResume && this.ownSinceResume.length < OWN_SERIALS_MAX) this.ownSinceResume.push(serial);
  }

  /**
   * @internal The channel is subscribed again and these publishes, sent
   * before without an ack, are sent again: the server may have stored them,
   * so a replay can bring them back before their acks do. Deliveries wait
   * until each is acked or has failed (publishSettled), so that the acks'
   * serials are known own ones by then.
   */
  awaitAcks(ids: readonly string[]): void {
    if (ids.length === 0 || this._state === 'unsubscribed') return;
    this.awaitedAcks = new Set(ids);
    this.heldForAcks ??= [];
  }

  /** @internal A publish on this channel was acked (its serial noted first) or failed. */
  publishSettled(id: string): void {
    if (this.awaitedAcks?.delete(id) && this.awaitedAcks.size === 0) this.releaseHeld();
  }

  /** @internal The connection went away. */
  suspend(): void {
    if (this._state === 'unsubscribed') return;
    // The next resume starts from the last serial delivered, which covers
    // whatever a gap fill in progress or its held frames would have added.
    this.fillGeneration++;
    this.buffered = undefined;
    // The same for frames held for acks: none was delivered, so the next
    // resume brings them again; the acks it waits for are awaited anew.
    this.awaitedAcks = undefined;
    this.heldForAcks = undefined;
    if (this.lastSerial !== undefined) this.ownSinceResume = [];
    this.lostAt ??= Date.now();
    if (this._state === 'subscribed') this.setState('subscribing');
  }

  /** @internal Leaves for good: drops every handler. */
  dispose(): void {
    this.awaitedAcks = undefined;
    this.heldForAcks = undefined;
    this.setState('unsubscribed');
    this.handlers.clear();
    this.globals.clear();
    this.removeAllListeners();
  }

  /** @internal A frame for this channel. */
  handle(f: Frame): void {
    switch (f.event) {
      case 'pusher_internal:subscription_succeeded':
        this.onSubscribed(f.data);
        return;
      case 'herald_internal:resume_result': {
        const d = dataObject<ResumeResultData>(f.data);
        this.onResumeResult(d.recovered === true, d.reset === true);
        return;
      }
      case 'pusher:subscription_error': {
        const d = dataObject<SubscriptionError>(f.data);
        this.fail({ type: d.type ?? 'Error', error: d.error ?? 'subscription refused', ...(d.status ? { status: d.status } : {}) });
        return;
      }
      case 'pusher_internal:subscription_count': {
        const n = dataObject<{ subscription_count: number }>(f.data).subscription_count;
        if (typeof n === 'number') {
          this.subscriptionCount = n;
          this.emit('subscription_count', n);
        }
        return;
      }
      case 'pusher:cache_miss':
        this.emit('cache_miss', undefined);
        return;
    }
    if (this.onInternal(f)) return;
    if (this.buffered) {
      this.buffered.push(f);
      return;
    }
    this.deliver(f);
  }

  /** @internal */
  fail(err: SubscriptionError): void {
    this.setState('failed');
    this.emit('error', err);
  }

  /** Presence channels handle their member events here. */
  protected onInternal(_f: Frame): boolean {
    return false;
  }

  protected onSubscribed(_data: unknown): void {
    this.everSubscribed = true;
    this.setState('subscribed');
    this.emit('subscribed', undefined);
  }

  /** @internal Delivers one message (live, replayed or from history), or holds it while acks are awaited. */
  deliver(f: Frame): void {
    if (this.heldForAcks) {
      this.heldForAcks.push(f);
      if (this.heldForAcks.length > ACK_WAIT_MAX_FRAMES) this.releaseHeld();
      return;
    }
    const serial = typeof f.serial === 'number' ? f.serial : undefined;
    if (serial !== undefined) {
      if (this.lastSerial !== undefined && serial <= this.lastSerial) return;
      this.lastSerial = serial;
      if (this.own.take(serial)) return;
    }
    let data: unknown;
    try {
      data = this.sharedSecret !== undefined ? this.host.decrypt(this, f.data) : parseData(f.data);
    } catch (err) {
      this.emit('error', { type: 'DecryptError', error: (err as Error).message });
      return;
    }
    const meta: MessageMeta = { channel: this.name, event: f.event };
    if (serial !== undefined) meta.serial = serial;
    if (f.user_id !== undefined) meta.userId = f.user_id;
    for (const fn of [...(this.handlers.get(f.event) ?? [])]) this.call(() => (fn as (d: unknown, m: MessageMeta) => void)(data, meta));
    for (const fn of [...this.globals]) this.call(() => fn(f.event, data, meta));
    this.host.delivered(f.event, data, meta);
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Runs fn now, or after the frames held for acks, in order with them. */
  private afterHeld(fn: () => void): void {
    if (this.heldForAcks) this.heldForAcks.push(fn);
    else fn();
  }

  private releaseHeld(): void {
    const held = this.heldForAcks ?? [];
    this.awaitedAcks = undefined;
    this.heldForAcks = undefined;
    for (const x of held) {
      if (this._state === 'unsubscribed') return;
      if (typeof x === 'function') x();
      else this.deliver(x);
    }
  }

  private onResumeResult(recovered: boolean, reset: boolean): void {
    this.lostAt = undefined;
    const ownSinceResume = this.ownSinceResume ?? [];
    this.ownSinceResume = undefined;
    if (!recovered && reset) {
      // The position is beyond everything the channel has now (its stream
      // was reset): serials start lower, so the old position and the own
      // serials from before would hide every new message. History around
      // a position that no longer exists cannot fill anything.
      this.lastSerial = undefined;
      this.own.replace(ownSinceResume);
      this.afterHeld(() => this.emit('resumed', { recovered: false, filled: false }));
      return;
    }
    if (recovered || this.lastSerial === undefined) {
      this.afterHeld(() => this.emit('resumed', { recovered, filled: false }));
      return;
    }
    // Live messages wait until history has filled the gap before them.
    this.buffered = [];
    const gen = this.fillGeneration;
    this.host.fillGap(this).then(
      (filled) => this.endFill(gen, filled),
      () => this.endFill(gen, false),
    );
  }

  private endFill(gen: number, filled: boolean): void {
    if (gen !== this.fillGeneration) return;
    const held = this.buffered ?? [];
    this.buffered = undefined;
    for (const f of held) this.deliver(f);
    this.afterHeld(() => this.emit('resumed', { recovered: false, filled }));
  }
}
