import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame, dataObject, parseData } from './frames.js';
import type { HistoryOptions, HistoryPage } from './history.js';

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
  /** When not recovered: whether the gap was filled from history (else the app should refetch). */
  filled: boolean;
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

/** How many own serials a channel remembers to skip their replay. */
const OWN_SERIALS_KEPT = 256;

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
  private ownSerials: number[] = [];
  private buffered: Frame[] | undefined;
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
    this.ownSerials.push(serial);
    if (this.ownSerials.length > OWN_SERIALS_KEPT) this.ownSerials.shift();
  }

  /** @internal The connection went away. */
  suspend(): void {
    if (this._state === 'unsubscribed') return;
    // The next resume starts from the last serial delivered, which covers
    // whatever a gap fill in progress or its held frames would have added.
    this.fillGeneration++;
    this.buffered = undefined;
    this.lostAt ??= Date.now();
    if (this._state === 'subscribed') this.setState('subscribing');
  }

  /** @internal Leaves for good: drops every handler. */
  dispose(): void {
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
      case 'herald_internal:resume_result':
        this.onResumeResult(dataObject<{ recovered: boolean }>(f.data).recovered === true);
        return;
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

  /** @internal Delivers one message (live, replayed or from history). */
  deliver(f: Frame): void {
    const serial = typeof f.serial === 'number' ? f.serial : undefined;
    if (serial !== undefined) {
      if (this.lastSerial !== undefined && serial <= this.lastSerial) return;
      this.lastSerial = serial;
      if (this.ownSerials.includes(serial)) return;
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

  private onResumeResult(recovered: boolean): void {
    this.lostAt = undefined;
    if (recovered || this.lastSerial === undefined) {
      this.emit('resumed', { recovered, filled: false });
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
    this.emit('resumed', { recovered: false, filled });
  }
}
