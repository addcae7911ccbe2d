import { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, type RandomSource, backoffDelay } from './backoff.js';
import type { MessageMeta } from './channel.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame, TERMINATED_REASON, dataObject, parseData, parseFrame } from './frames.js';

/** Options of a receive-only Server-Sent Events stream. */
export interface HeraldStreamOptions {
  key: string;
  /** Herald's base URL. */
  url: string;
  /** Public channels, and private ones the token allows (no presence). */
  channels: string[];
  /** A token for private channels, asked for at each (re)connection. */
  tokenProvider?: () => Promise<string>;
  fetch?: typeof fetch;
  random?: RandomSource;
}

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'failed';

export interface StreamEvents {
  state: StreamState;
  /** After a reconnection, whether the server replayed everything missed. */
  resumed: { recovered: boolean };
  /**
   * A `pusher:error` from the server, or a failed request. `reason` is the
   * server's, when it gave one: {@link TERMINATED_REASON} when the app
   * terminated the user's connections, after which the stream is `failed`.
   */
  error: { code?: number; message: string; reason?: string };
}

/**
 * A receive-only transport over `GET /sse`, for pages that never publish:
 * it resumes with Last-Event-ID after a cut, backs off with full jitter
 * and asks for a new token when the server ends the stream with 4009.
 */
export class HeraldStream extends Emitter<StreamEvents> {
  private _state: StreamState = 'connecting';
  private lastEventId: string | undefined;
  private readonly abort = new AbortController();
  private readonly handlers = new Map<string, Set<(data: unknown, meta: MessageMeta) => void>>();
  private attempts = 0;
  /** The server ended the stream with terminate's reason: never reconnect. */
  private terminated = false;

  constructor(private readonly opts: HeraldStreamOptions) {
    super();
    void this.run();
  }

  get state(): StreamState {
    return this._state;
  }

  /** Calls fn for each `event` on channel. */
  bind(channel: string, event: string, fn: (data: unknown, meta: MessageMeta) => void): Unsubscribe {
    const k = `${channel}\n${event}`;
    let set = this.handlers.get(k);
    if (!set) this.handlers.set(k, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.handlers.delete(k);
    };
  }

  close(): void {
    this.abort.abort();
    this.setState('closed');
  }

  private setState(s: StreamState): void {
    if (this._state === s || this._state === 'closed') return;
    this._state = s;
    this.emit('state', s);
  }

  private async run(): Promise<void> {
    const fetchFn = this.opts.fetch ?? ((...a) => globalThis.fetch(...a));
    while (!this.abort.signal.aborted) {
      let fatal: string | undefined;
      try {
        const q = new URLSearchParams({ key: this.opts.key });
        for (const c of this.opts.channels) q.append('channel', c);
        if (this.opts.tokenProvider) q.set('token', await this.opts.tokenProvider());
        // The query form of Last-Event-ID keeps the request simple: no CORS preflight.
        if (this.lastEventId !== undefined) q.set('last_event_id', this.lastEventId);
        const res = await fetchFn(`${this.opts.url.replace(/\/+$/, '')}/sse?${q}`, {
          headers: { accept: 'text/event-stream' },
          signal: this.abort.signal,
        });
        if (!res.ok || !res.body) {
          const msg = `/sse answered ${res.status}`;
          // 4xx other than 429 will not get better by retrying.
          if (res.status >= 400 && res.status < 500 && res.status !== 429) fatal = msg;
          throw new Error(msg);
        }
        this.setState('open');
        this.attempts = 0;
        await this.read(res.body);
        if (this.terminated) {
          this.setState('failed');
          return;
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.emit('error', { message: (err as Error).message });
        if (fatal !== undefined) {
          this.setState('failed');
          return;
        }
      }
      if (this.abort.signal.aborted) return;
      this.setState('reconnecting');
      const delay = backoffDelay(this.attempts++, {
        baseMs: DEFAULT_BACKOFF_BASE_MS,
        maxMs: DEFAULT_BACKOFF_MAX_MS,
        random: this.opts.random ?? Math.random,
      });
      await this.sleep(delay);
    }
  }

  /** Waits ms, or less when the stream is closed meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    let ev: { id?: string; event?: string; data: string[] } = { data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (ev.data.length) this.dispatch(ev.event ?? 'message', ev.data.join('\n'), ev.id);
          ev = { data: [] };
        } else if (!line.startsWith(':')) {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'data') ev.data.push(val);
          else if (field === 'event') ev.event = val;
          else if (field === 'id') ev.id = val;
        }
      }
    }
  }

  private dispatch(event: string, data: string, id: string | undefined): void {
    if (id !== undefined) this.lastEventId = id;
    if (event === 'pusher:error') {
      const e = dataObject<{ code: number; message: string; reason: string }>(data);
      // The app ended this user's connections: coming back with a new
      // token would undo that.
      if (e.reason === TERMINATED_REASON) this.terminated = true;
      this.emit('error', {
        ...(e.code !== undefined ? { code: e.code } : {}),
        message: e.message ?? 'stream ended',
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
      });
      return;
    }
    if (event === 'herald_internal:resume_result') {
      // Not a channel message: its data is the result itself.
      this.emit('resumed', { recovered: dataObject<{ recovered: boolean }>(data).recovered === true });
      return;
    }
    const f: Frame | undefined = parseFrame(data);
    if (!f) return;
    const meta: MessageMeta = { channel: f.channel ?? '', event: f.event };
    if (typeof f.serial === 'number') meta.serial = f.serial;
    if (f.user_id !== undefined) meta.userId = f.user_id;
    const parsed = parseData(f.data);
    for (const fn of [...(this.handlers.get(`${meta.channel}\n${f.event}`) ?? [])]) fn(parsed, meta);
  }
}
