import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  type RandomSource,
  backoffDelay,
  closeAction,
} from './backoff.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { type Environment, globalEnvironment } from './environment.js';
import { type Frame, TERMINATED_REASON, dataObject, parseFrame } from './frames.js';
import { decodeToken } from './token.js';

/** The states of a connection (see the package README for the diagram). */
export type ConnectionState =
  | 'initialized'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'suspended'
  | 'disconnected'
  | 'failed';

/** Emitted on every state change. */
export interface StateChange {
  previous: ConnectionState;
  current: ConnectionState;
  /** Why: a close reason, `offline`, `heartbeat timeout`, `closed`, … */
  reason?: string;
  /** The close code that caused it, when there was one. */
  code?: number;
}

/** The subset of the WebSocket API the SDK uses (browsers' or `ws`'s). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Timing and retry settings; every one has a default. */
export interface ConnectionTimings {
  /** Backoff: the first ceiling, doubled per failed attempt (default 1 s). */
  backoffBaseMs?: number;
  /** Backoff: the largest ceiling (default 30 s). */
  backoffMaxMs?: number;
  /** After this long without a connection, `suspended` (default 2 min). */
  suspendAfterMs?: number;
  /** The wait between attempts while suspended (default 30 s). */
  suspendedRetryMs?: number;
  /** Failed attempts in a row before `failed` (default: no limit). */
  maxAttempts?: number;
  /**
   * How long an attempt may take to be established (default 10 s); also
   * how long a tokenProvider call may take, at connect or on refresh.
   */
  connectTimeoutMs?: number;
  /** Idle time before the client pings (default 30 s, or the server's activity_timeout when shorter). */
  heartbeatMs?: number;
  /** How long a heartbeat ping waits for an answer (default 10 s). */
  pongTimeoutMs?: number;
  /** How long a check ping (online, visible) waits (default 3 s). */
  checkTimeoutMs?: number;
}

export interface ConnectionOptions extends ConnectionTimings {
  /** The WebSocket URL for a token (or none). */
  url: (token: string | undefined) => string;
  WebSocket: WebSocketConstructor;
  /**
   * Fetches a token; absent for connections without tokens. One that
   * throws, does not settle within connectTimeoutMs, or returns anything
   * but a non-empty string is an `error` event with the cause, and the
   * connection tries again after its backoff, as after a network failure.
   */
  getToken?: () => Promise<string>;
  random?: RandomSource;
  environment?: Environment;
}

const DEFAULTS = {
  suspendAfterMs: 120_000,
  suspendedRetryMs: 30_000,
  connectTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  pongTimeoutMs: 10_000,
  checkTimeoutMs: 3_000,
} as const;

/** The least wait after a 4100–4199 close (docs/protocol.md). */
const MIN_OVER_CAPACITY_WAIT_MS = 1_000;
/** A cached token this close to its exp is replaced before connecting. */
const TOKEN_REUSE_MARGIN_MS = 30_000;
/** The close code the client uses for a socket it gave up on. */
const CLIENT_GAVE_UP = 4999;
const NORMAL_CLOSURE = 1000;

export interface ConnectionEvents {
  change: StateChange;
  /** Every frame that is not the connection's own business. */
  message: Frame;
  /** A new socket id (after each (re)connection). */
  connected: { socketId: string };
  /** The socket went away (before the state says what comes next). */
  lost: { code: number; reason: string };
  /** A `pusher:error` frame, or a getToken that threw (its exception in cause). */
  error: ConnectionError;
}

/** What an `error` event carries. */
export interface ConnectionError {
  /** The server's code (`pusher:error`). */
  code?: number;
  message?: string;
  /**
   * The server's machine-readable reason (a Herald extension of
   * `pusher:error`), when it gave one: {@link TERMINATED_REASON} when the
   * app ended the user's connections, after which the connection is
   * `failed` and neither reconnects nor asks for a new token.
   */
  reason?: string;
  /** What a tokenProvider threw. */
  cause?: unknown;
}


/** The error event of a getToken that threw, timed out or returned no token. */
function tokenProviderError(err: unknown): ConnectionError & { message: string } {
  return { message: `token provider failed: ${err instanceof Error ? err.message : String(err)}`, cause: err };
}

/**
 * getToken's token, or a rejection when it throws, returns anything but a
 * non-empty string (connecting without a token would only be refused later,
 * far from the cause), or has not settled within timeoutMs (a hung token
 * endpoint would otherwise leave the connection waiting for good).
 */
async function fetchToken(getToken: () => Promise<string>, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no token within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const token: unknown = await Promise.race([getToken(), timeout]);
    if (typeof token !== 'string') throw new Error(`it must return a string, not ${token === null ? 'null' : typeof token}`);
    if (token === '') throw new Error('it returned an empty token');
    return token;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One logical connection to Herald over successive WebSockets: the state
 * machine, heartbeat, backoff and token refresh. Channels live above it.
 */
export class Connection extends Emitter<ConnectionEvents> {
  private _state: ConnectionState = 'initialized';
  private _socketId: string | undefined;
  private ws: WebSocketLike | undefined;
  /** Bumped for each socket and on close: stale callbacks compare it. */
  private generation = 0;
  private attempts = 0;
  private lostAt: number | undefined;
  private everConnected = false;
  private userClosed = false;
  private authRetried = false;
  /** The current socket's server said the app terminated it. */
  private terminated = false;
  private token: string | undefined;
  private _failReason: string | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private idleMs: number;
  private readonly t: Required<Omit<ConnectionTimings, 'maxAttempts'>> & { maxAttempts: number | undefined };
  private readonly random: RandomSource;
  private readonly env: Environment;
  private unwatch: Unsubscribe | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.t = {
      backoffBaseMs: opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      backoffMaxMs: opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      suspendAfterMs: opts.suspendAfterMs ?? DEFAULTS.suspendAfterMs,
      suspendedRetryMs: opts.suspendedRetryMs ?? DEFAULTS.suspendedRetryMs,
      maxAttempts: opts.maxAttempts,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      heartbeatMs: opts.heartbeatMs ?? DEFAULTS.heartbeatMs,
      pongTimeoutMs: opts.pongTimeoutMs ?? DEFAULTS.pongTimeoutMs,
      checkTimeoutMs: opts.checkTimeoutMs ?? DEFAULTS.checkTimeoutMs,
    };
    this.idleMs = this.t.heartbeatMs;
    this.random = opts.random ?? Math.random;
    this.env = opts.environment ?? globalEnvironment();
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The server's id for the current socket, while connected. */
  get socketId(): string | undefined {
    return this._state === 'connected' ? this._socketId : undefined;
  }

  /** Why the connection is `failed`, while it is. */
  get failReason(): string | undefined {
    return this._state === 'failed' ? this._failReason : undefined;
  }

  /** The token in use, when connecting with tokens. */
  get currentToken(): string | undefined {
    return this.token;
  }

  /** Starts connecting (again, after `disconnected` or `failed`). */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected') return;
    this.userClosed = false;
    this.unwatch ??= this.env.watch({
      online: () => this.onOnline(),
      offline: () => this.onOffline(),
      visible: () => this.check(),
    });
    this.attempts = 0;
    this.lostAt = undefined;
    void this.attempt();
  }

  /** Ends the connection for good (until connect() is called again). */
  close(): void {
    this.userClosed = true;
    this.unwatch?.();
    this.unwatch = undefined;
    const hadSocket = this.ws !== undefined;
    this.dropSocket(NORMAL_CLOSURE, 'closed');
    this.clearRetry();
    if (hadSocket) this.emit('lost', { code: NORMAL_CLOSURE, reason: 'closed' });
    this.setState('disconnected', 'closed');
  }

  /** Sends a frame; false when not connected (nothing is sent). */
  send(event: string, data: unknown, channel?: string): boolean {
    if (this._state !== 'connected' || !this.ws) return false;
    const frame: Record<string, unknown> = { event, data };
    if (channel !== undefined) frame.channel = channel;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Checks the connection now: a ping with a short deadline when connected,
   * an immediate attempt when waiting to reconnect.
   */
  check(): void {
    if (this._state === 'connected') {
      if (this.pongTimer === undefined) this.ping(this.t.checkTimeoutMs);
    } else if ((this._state === 'reconnecting' || this._state === 'suspended') && this.retryTimer !== undefined) {
      this.clearRetry();
      void this.attempt();
    }
  }

  private onOnline(): void {
    if (this.userClosed || this._state === 'failed') return;
    if (this._state === 'disconnected') {
      void this.attempt();
    } else {
      this.check();
    }
  }

  private onOffline(): void {
    if (this._state === 'connected') {
      this.check();
    } else if (this._state === 'reconnecting' || this._state === 'suspended' || this._state === 'connecting') {
      this.clearRetry();
      this.dropSocket(CLIENT_GAVE_UP, 'offline');
      this.setState('disconnected', 'offline');
    }
  }

  private async attempt(): Promise<void> {
    this.clearRetry();
    if (!this.env.isOnline()) {
      this.setState('disconnected', 'offline');
      return;
    }
    const gen = ++this.generation;
    this.terminated = false;
    if (this._state !== 'suspended') {
      this.setState(this.everConnected ? 'reconnecting' : 'connecting');
    }
    let token = this.token;
    if (token !== undefined && !this.fresh(token)) token = undefined;
    if (this.opts.getToken && token === undefined) {
      try {
        token = await fetchToken(this.opts.getToken, this.t.connectTimeoutMs);
      } catch (err) {
        if (gen !== this.generation) return;
        const e = tokenProviderError(err);
        this.emit('error', e);
        // Unlike a token the server refused, a provider that throws is most
        // often a backend or network outage: try again after the backoff.
        this.lose(CLIENT_GAVE_UP, e.message);
        return;
      }
      if (gen !== this.generation) return;
      this.token = token;
    }
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocket(this.opts.url(token));
    } catch (err) {
      this.lose(CLIENT_GAVE_UP, `cannot open a WebSocket: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    this.connectTimer = setTimeout(() => {
      this.dropSocket(CLIENT_GAVE_UP, 'connect timeout');
      this.lose(CLIENT_GAVE_UP, 'connect timeout');
    }, this.t.connectTimeoutMs);
    ws.onmessage = (ev) => {
      if (gen === this.generation) this.onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen !== this.generation) return;
      this.ws = undefined;
      this.lose(ev.code, ev.reason || `closed with ${ev.code}`);
    };
    ws.onerror = () => {};
  }

  private onFrame(raw: unknown): void {
    const f = parseFrame(raw);
    if (!f) return;
    this.armHeartbeat();
    switch (f.event) {
      case 'pusher:connection_established': {
        const d = dataObject<{ socket_id: string; activity_timeout: number }>(f.data);
        clearTimeout(this.connectTimer);
        this._socketId = d.socket_id;
        if (typeof d.activity_timeout === 'number' && d.activity_timeout > 0) {
          this.idleMs = Math.min(this.t.heartbeatMs, d.activity_timeout * 1000);
          this.armHeartbeat();
        }
        this.attempts = 0;
        this.lostAt = undefined;
        this.authRetried = false;
        this.everConnected = true;
        this.setState('connected');
        this.emit('connected', { socketId: d.socket_id ?? '' });
        return;
      }
      case 'pusher:ping':
        this.send('pusher:pong', {});
        return;
      case 'pusher:pong':
        return;
      case 'pusher:error': {
        const d = dataObject<{ code: number; message: string; reason?: unknown }>(f.data);
        const e: ConnectionError = { code: d.code, message: d.message };
        if (typeof d.reason === 'string') e.reason = d.reason;
        if (d.reason === TERMINATED_REASON) this.terminated = true;
        this.emit('error', e);
        return;
      }
      case 'herald_internal:token_expiring':
        void this.refreshToken();
        return;
      case 'herald_internal:token_refreshed':
        return;
    }
    this.emit('message', f);
  }

  /** Whether a token is not about to expire (one without exp is). */
  private fresh(token: string): boolean {
    const exp = decodeToken(token)?.exp;
    return exp === undefined || exp * 1000 - Date.now() > TOKEN_REUSE_MARGIN_MS;
  }

  private async refreshToken(): Promise<void> {
    if (!this.opts.getToken) return;
    const gen = this.generation;
    try {
      const token = await fetchToken(this.opts.getToken, this.t.connectTimeoutMs);
      if (gen !== this.generation) return;
      this.token = token;
      this.send('herald:refresh', { token });
    } catch (err) {
      // The connection stays up until exp, when the server closes with
      // 4009 and the close path asks again.
      if (gen === this.generation) this.emit('error', tokenProviderError(err));
    }
  }

  private armHeartbeat(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    clearTimeout(this.idleTimer);
    if (this.ws) this.idleTimer = setTimeout(() => this.ping(this.t.pongTimeoutMs), this.idleMs);
  }

  private ping(timeoutMs: number): void {
    if (!this.send('pusher:ping', {})) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => {
      this.dropSocket(CLIENT_GAVE_UP, 'heartbeat timeout');
      this.lose(CLIENT_GAVE_UP, 'heartbeat timeout');
    }, timeoutMs);
  }

  /** Forgets the current socket without waiting for its close event. */
  private dropSocket(code: number, reason: string): void {
    this.generation++;
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onopen = null;
      ws.onerror = () => {};
      try {
        ws.close(code === CLIENT_GAVE_UP ? NORMAL_CLOSURE : code, reason);
      } catch {
        // already closing
      }
    }
  }

  /** A socket (or an attempt) ended: decide when to try again. */
  private lose(code: number, reason: string): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    this.emit('lost', { code, reason });
    if (this.userClosed) return;
    if (this.terminated) {
      // The app ended the user's connections: a fresh token (4009's usual
      // remedy) would only bring the user back.
      this.fail(reason, code);
      return;
    }
    const action = closeAction(code);
    if (action === 'fail' || (action === 'token' && (!this.opts.getToken || this.authRetried))) {
      // A refused token is never offered again: connect() asks the
      // provider for a new one.
      if (action === 'token') this.token = undefined;
      this.fail(reason, code);
      return;
    }
    const now = Date.now();
    this.lostAt ??= now;
    let delay: number;
    if (action === 'token') {
      // One more try with a fresh token before giving up.
      this.authRetried = true;
      this.token = undefined;
      delay = 0;
    } else if (action === 'now' && this.attempts === 0) {
      delay = 0;
    } else {
      delay = backoffDelay(this.attempts, {
        baseMs: this.t.backoffBaseMs,
        maxMs: this.t.backoffMaxMs,
        random: this.random,
      });
      if (code >= 4100 && code < 4200) delay = Math.max(delay, MIN_OVER_CAPACITY_WAIT_MS);
    }
    this.attempts++;
    if (this.t.maxAttempts !== undefined && this.attempts > this.t.maxAttempts) {
      this.fail(`gave up after ${this.t.maxAttempts} attempts: ${reason}`, code);
      return;
    }
    if (!this.env.isOnline()) {
      this.setState('disconnected', 'offline', code);
      return;
    }
    if (now - this.lostAt >= this.t.suspendAfterMs) {
      this.setState('suspended', reason, code);
      delay = this.t.suspendedRetryMs;
    } else {
      this.setState(this.everConnected ? 'reconnecting' : 'connecting', reason, code);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt();
    }, delay);
  }

  private fail(reason: string, code?: number): void {
    this.clearRetry();
    this._failReason = reason;
    this.unwatch?.();
    this.unwatch = undefined;
    this.setState('failed', reason, code);
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setState(current: ConnectionState, reason?: string, code?: number): void {
    const previous = this._state;
    if (previous === current) return;
    this._state = current;
    const change: StateChange = { previous, current };
    if (reason !== undefined) change.reason = reason;
    if (code !== undefined) change.code = code;
    this.emit('change', change);
  }
}
