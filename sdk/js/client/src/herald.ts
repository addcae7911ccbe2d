import { type ChannelAuth, type HeadersProvider, type UserAuth, postAuth } from './auth.js';
import type { RandomSource } from './backoff.js';
import { Channel, type ChannelHost, type EventMap, type MessageMeta } from './channel.js';
import { Connection, type ConnectionError, type ConnectionTimings, type WebSocketConstructor } from './connection.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import type { Environment } from './environment.js';
import { AuthError, ClosedError, HeraldError } from './errors.js';
import { type Frame, dataObject } from './frames.js';
import { type HistoryOptions, type HistoryPage, fetchHistory } from './history.js';
import { IndexedDbOutboxStore, Outbox, type OutboxEntry, type OutboxOptions } from './outbox.js';
import { PresenceChannel } from './presence.js';
import { decodeToken, tokenAllows } from './token.js';
import { UserSession } from './user.js';

/** Decrypts a private-encrypted channel's data with its shared secret (see `@herald/client/encrypted`). */
export type Decryptor = (sharedSecretBase64: string, data: unknown) => unknown;

/** Options of `new Herald(…)`. Only `key` and `url` are required. */
export interface HeraldOptions extends ConnectionTimings {
  /** The app key. */
  key: string;
  /** Herald's base URL, e.g. `http://127.0.0.1:6001` (a path is kept as a prefix). */
  url: string;
  /** A URL the SDK POSTs `socket_id` and `channel_name` to for private and presence channels. */
  authEndpoint?: string;
  /** Headers for authEndpoint and userAuthEndpoint, asked for on every request. */
  headers?: HeadersProvider;
  /** Authorizes a channel in code instead of authEndpoint. */
  authorizer?: (channel: string, socketId: string) => Promise<ChannelAuth>;
  /** A URL the SDK POSTs `socket_id` to for `signin()`. */
  userAuthEndpoint?: string;
  /** Authenticates the user in code instead of userAuthEndpoint. */
  userAuthenticator?: (socketId: string) => Promise<UserAuth>;
  /**
   * Fetches a Herald token: at connect, on token_expiring, and once on a
   * 4009 close. When it throws, does not settle within connectTimeoutMs, or
   * returns anything but a non-empty string, the client emits `error` with
   * the reason as `cause` and asks again after its backoff, as after a
   * network failure (the connection stays `connecting` or `reconnecting`).
   * A refresh that fails that way leaves the connection up on its old
   * token until exp; the server then closes it and the client asks again.
   */
  tokenProvider?: () => Promise<string>;
  /** The WebSocket class, where there is no global one (Node before 22: the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** The app id for history, when tokens do not carry it. */
  appId?: string;
  outbox?: OutboxOptions;
  decryptor?: Decryptor;
  /** Random source for backoff jitter (tests). */
  random?: RandomSource;
  /** Online/offline and visibility source (tests). */
  environment?: Environment;
  /** fetch, where there is no global one. */
  fetch?: typeof fetch;
  /** Connect at once (default true), as pusher-js does. */
  autoConnect?: boolean;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Replay the last n messages (at most 100) on the first subscribe. */
  rewind?: number;
}

export interface PublishOptions {
  /** Makes resends idempotent; generated when absent. */
  id?: string;
  /** How long the publish may wait for its ack (default 60 s, at most 110 s). */
  deadlineMs?: number;
}

export interface HeraldEvents {
  /** Every acked publish, restored ones included. */
  published: { id: string; channel: string; serial: number };
  /** Every publish that failed (nack, deadline, close). */
  publish_failed: { id: string; channel: string; error: Error };
  /**
   * A `pusher:error` from the server, or a tokenProvider that threw (what
   * it threw is `cause`; the connection tries again after its backoff).
   */
  error: ConnectionError;
}

type GlobalHandler = (event: string, data: unknown, meta: MessageMeta) => void;

/** A slack on rewind_ms when a channel that had seen no message resumes. */
const REWIND_SLACK_MS = 1_000;
/** History pages read per request when filling a gap. */
const GAP_PAGE = 1000;
const PROTOCOL = 7;
const CLIENT_NAME = 'herald-js';

function isPrivate(name: string): boolean {
  return name.startsWith('private-') || name.startsWith('presence-');
}

/** What a publish rejects with when the connection is (or goes) `failed`. */
function connectionFailedError(reason: string | undefined): HeraldError {
  return new HeraldError(`the connection failed${reason ? ` (${reason})` : ''}: the publish was not sent; call connect() to try again`);
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A Herald client: one connection, its channels, acked publishes and the
 * signed-in user. It connects as soon as it is made.
 */
export class Herald extends Emitter<HeraldEvents> {
  readonly connection: Connection;
  readonly user: UserSession;
  private readonly channels = new Map<string, Channel>();
  private readonly globals = new Set<GlobalHandler>();
  private readonly outbox: Outbox;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly host: ChannelHost;
  private closed = false;

  constructor(private readonly opts: HeraldOptions) {
    super();
    this.base = opts.url.replace(/\/+$/, '');
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new HeraldError('no WebSocket: pass the `ws` package as the WebSocket option');
    this.fetchFn = opts.fetch ?? ((...a) => globalThis.fetch(...a));
    const wsBase = this.base.replace(/^http/, 'ws');
    this.connection = new Connection({
      ...opts,
      WebSocket: WS,
      url: (token) => {
        const q = `protocol=${PROTOCOL}&client=${CLIENT_NAME}${token ? `&token=${encodeURIComponent(token)}` : ''}`;
        return `${wsBase}/app/${encodeURIComponent(opts.key)}?${q}`;
      },
      ...(opts.tokenProvider ? { getToken: opts.tokenProvider } : {}),
    });
    this.host = {
      trigger: (ch, event, data) => this.connection.send(event, data, ch),
      history: (ch, o) => this.history(ch, o),
      publish: (ch, e, d, o) => this.publish(ch, e, d, o),
      fillGap: (ch) => this.fillGap(ch),
      decrypt: (ch, data) => {
        if (!opts.decryptor || ch.sharedSecret === undefined) throw new HeraldError('no decryptor for an encrypted channel');
        return opts.decryptor(ch.sharedSecret, data);
      },
      delivered: (event, data, meta) => {
        for (const fn of [...this.globals]) fn(event, data, meta);
      },
    };
    const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    const store = opts.outbox?.store ?? (idb ? new IndexedDbOutboxStore(`herald-outbox-${opts.key}`, idb) : undefined);
    this.outbox = new Outbox(
      { ...opts.outbox, ...(store ? { store } : {}) },
      {
        send: (e) => this.sendPublish(e),
        settled: (e, r) => {
          const ch = this.channels.get(e.channel);
          // The serial is noted before the channel releases what waited
          // for this ack, so that its message is not delivered back.
          if (!(r instanceof Error)) ch?.noteOwnSerial(r.serial);
          ch?.publishSettled(e.id);
          if (r instanceof Error) this.emit('publish_failed', { id: e.id, channel: e.channel, error: r });
          else this.emit('published', { id: e.id, channel: e.channel, serial: r.serial });
        },
      },
    );
    this.user = new UserSession({
      authenticate: (socketId) => this.authenticateUser(socketId),
      send: (event, data) => this.connection.send(event, data),
      socketId: () => this.connection.socketId,
    });
    this.connection.on('connected', () => this.onConnected());
    this.connection.on('lost', () => {
      for (const ch of this.channels.values()) ch.suspend();
      this.outbox.unsend();
    });
    this.connection.on('change', (c) => {
      // A failed connection never reconnects by itself: what waits would
      // only wait out its deadline. ('lost' came first, so nothing is sent.)
      if (c.current === 'failed') this.outbox.dropUnsent(undefined, connectionFailedError(c.reason));
    });
    this.connection.on('message', (f) => this.onMessage(f));
    this.connection.on('error', (e) => this.emit('error', e));
    void this.outbox.restore().catch(() => {});
    if (opts.autoConnect !== false) this.connection.connect();
  }

  /** The current socket id, while connected. */
  get socketId(): string | undefined {
    return this.connection.socketId;
  }

  /** Connects (again, after close() or `failed`). */
  connect(): void {
    this.closed = false;
    this.connection.connect();
  }

  /** Joins a channel (or returns the one already joined). */
  subscribe<E extends EventMap = EventMap>(name: string, opts: SubscribeOptions = {}): Channel<E> {
    let ch = this.channels.get(name);
    if (!ch) {
      ch = name.startsWith('presence-') ? new PresenceChannel(name, opts, this.host) : new Channel(name, opts, this.host);
      this.channels.set(name, ch);
      // A refused subscription never sends what waits for it.
      ch.on('state', (s) => {
        if (s === 'failed') this.outbox.dropUnsent(name, new HeraldError(`${name} failed (its subscription was refused): the publish was not sent`));
      });
      if (this.connection.state === 'connected') void this.sendSubscribe(ch);
    }
    return ch as unknown as Channel<E>;
  }

  /** Joins a presence channel. */
  subscribePresence<E extends EventMap = EventMap, Info = unknown>(name: `presence-${string}`): PresenceChannel<E, Info> {
    return this.subscribe(name) as unknown as PresenceChannel<E, Info>;
  }

  /** The joined channel of that name. */
  channel<E extends EventMap = EventMap>(name: string): Channel<E> | undefined {
    return this.channels.get(name) as unknown as Channel<E> | undefined;
  }

  /** How many channels are joined, for leak checks. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Leaves a channel and drops its handlers. */
  unsubscribe(name: string): void {
    const ch = this.channels.get(name);
    if (!ch) return;
    this.channels.delete(name);
    this.connection.send('pusher:unsubscribe', { channel: name });
    ch.dispose();
    this.outbox.dropUnsent(name, new HeraldError(`${name} was left before the publish was sent`));
  }

  /** Calls fn for every event on every channel. */
  bind_global(fn: GlobalHandler): Unsubscribe {
    this.globals.add(fn);
    return () => this.globals.delete(fn);
  }

  /**
   * Publishes through `herald:publish` and resolves with the stored
   * message's serial once acknowledged. While the connection is down it
   * waits in the outbox (see OutboxOptions); it rejects with a
   * PublishRejectedError on a nack, a PublishTimeoutError after its
   * deadline, an OutboxFullError when the outbox is full, and at once with
   * a HeraldError on a channel not joined, refused (`failed`) or left
   * before it was sent, or while the connection is `failed` (what waited
   * unsent is rejected when it fails; call connect() to publish again).
   * A channel's acked publishes are stored in the order they were
   * published: its next publish is sent once the previous one is acked or
   * failed.
   */
  publish(channel: string, event: string, data: unknown, opts: PublishOptions = {}): Promise<{ serial: number }> {
    if (this.closed) return Promise.reject(new ClosedError('the client'));
    const ch = this.channels.get(channel);
    if (!ch) {
      return Promise.reject(new HeraldError(`subscribe to ${channel} before publishing on it`));
    }
    if (ch.state === 'failed') {
      return Promise.reject(new HeraldError(`${channel} failed (its subscription was refused): nothing can be published on it`));
    }
    if (this.connection.state === 'failed') {
      return Promise.reject(connectionFailedError(this.connection.failReason));
    }
    return this.outbox.add({ id: opts.id ?? randomId(), channel, event, data }, opts.deadlineMs);
  }

  /** How many publishes wait for their ack. */
  get pendingPublishes(): number {
    return this.outbox.size;
  }

  /** A history page of a channel, read with the token (which needs `history`). */
  async history(channel: string, opts: HistoryOptions = {}): Promise<HistoryPage> {
    const token = this.connection.currentToken ?? (await this.opts.tokenProvider?.());
    if (!token) throw new AuthError('history needs a token with the history capability (tokenProvider)');
    const appId = this.opts.appId ?? decodeToken(token)?.app;
    if (!appId) throw new AuthError('history needs the app id: a token with an app claim, or the appId option');
    return fetchHistory(this.fetchFn, this.base, appId, token, channel, opts);
  }

  /** Ends the connection, every channel and every waiting publish. */
  close(): void {
    this.closed = true;
    this.connection.close();
    this.outbox.close();
    for (const name of [...this.channels.keys()]) this.unsubscribe(name);
    this.globals.clear();
  }

  private onConnected(): void {
    for (const ch of this.channels.values()) void this.sendSubscribe(ch);
    void this.user.attempt();
  }

  private onMessage(f: Frame): void {
    if (f.event === 'herald_internal:ack') {
      const d = dataObject<{ id: string; serial: number }>(f.data);
      if (d.id !== undefined && typeof d.serial === 'number') this.outbox.ack(d.id, d.serial);
      return;
    }
    if (f.event === 'herald_internal:nack') {
      const d = dataObject<{ id: string; code: number; message: string }>(f.data);
      if (d.id !== undefined) this.outbox.nack(d.id, d.code ?? 0, d.message ?? 'refused');
      return;
    }
    if (this.user.handle(f)) return;
    if (f.channel === undefined) return;
    const ch = this.channels.get(f.channel);
    if (!ch) return;
    const subscribed = f.event === 'pusher_internal:subscription_succeeded';
    // Publishes resent now may come back in the replay before their acks.
    if (subscribed) ch.awaitAcks(this.outbox.inDoubt(ch.name));
    ch.handle(f);
    if (subscribed) this.outbox.flush();
  }

  private sendPublish(e: OutboxEntry): boolean {
    if (this.channels.get(e.channel)?.state !== 'subscribed') return false;
    return this.connection.send('herald:publish', { channel: e.channel, event: e.event, data: e.data, id: e.id });
  }

  private async sendSubscribe(ch: Channel): Promise<void> {
    const socketId = this.connection.socketId;
    if (!socketId) return;
    const data: Record<string, unknown> = { channel: ch.name };
    const token = this.connection.currentToken;
    if (isPrivate(ch.name) && token === undefined) {
      let a: ChannelAuth;
      try {
        a = await this.authorize(ch.name, socketId);
      } catch (err) {
        if (this.channels.get(ch.name) === ch) ch.fail({ type: 'AuthError', error: (err as Error).message });
        return;
      }
      if (this.connection.socketId !== socketId || this.channels.get(ch.name) !== ch) return;
      data.auth = a.auth;
      if (a.channel_data !== undefined) {
        data.channel_data = a.channel_data;
        if (ch instanceof PresenceChannel) {
          const id = dataObject<{ user_id: unknown }>(a.channel_data).user_id;
          if (id !== undefined) ch.myId = String(id);
        }
      }
      if (a.shared_secret !== undefined) ch.sharedSecret = a.shared_secret;
    } else if (ch instanceof PresenceChannel && token !== undefined) {
      ch.myId = decodeToken(token)?.sub;
    }
    if (ch.everSubscribed) {
      if (ch.lastSerial !== undefined) data.resume_from = ch.lastSerial;
      else if (ch.lostAt !== undefined) data.rewind_ms = Date.now() - ch.lostAt + REWIND_SLACK_MS;
    } else if (ch.options.rewind) {
      data.rewind = ch.options.rewind;
    }
    this.connection.send('pusher:subscribe', data);
  }

  private authorize(channel: string, socketId: string): Promise<ChannelAuth> {
    if (this.opts.authorizer) return this.opts.authorizer(channel, socketId);
    if (this.opts.authEndpoint) {
      return postAuth<ChannelAuth>(this.fetchFn, this.opts.authEndpoint, { socket_id: socketId, channel_name: channel }, this.opts.headers);
    }
    return Promise.reject(new AuthError(`${channel} needs an authEndpoint, an authorizer or a tokenProvider`));
  }

  private authenticateUser(socketId: string): Promise<UserAuth> {
    if (this.opts.userAuthenticator) return this.opts.userAuthenticator(socketId);
    if (this.opts.userAuthEndpoint) {
      return postAuth<UserAuth>(this.fetchFn, this.opts.userAuthEndpoint, { socket_id: socketId }, this.opts.headers);
    }
    return Promise.reject(new AuthError('signin needs a userAuthEndpoint or a userAuthenticator'));
  }

  /** Reads the messages missed after ch.lastSerial from history, in order. */
  private async fillGap(ch: Channel): Promise<boolean> {
    const token = this.connection.currentToken;
    if (!token || !tokenAllows(decodeToken(token), ch.name, 'history')) return false;
    let cursor: string | undefined;
    const from = ch.lastSerial;
    for (;;) {
      const page = await this.history(ch.name, {
        direction: 'forwards',
        limit: GAP_PAGE,
        ...(cursor ? { cursor } : from !== undefined ? { fromSerial: from } : {}),
        ...(cursor && from !== undefined ? { fromSerial: from } : {}),
      });
      for (const it of page.items) {
        const f: Frame = { event: it.event, channel: ch.name, data: it.rawData, serial: it.serial };
        if (it.userId !== undefined) f.user_id = it.userId;
        ch.deliver(f);
      }
      if (!page.next || this.channels.get(ch.name) !== ch) return true;
      cursor = page.next;
    }
  }
}
