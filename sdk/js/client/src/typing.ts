import type { Channel } from './channel.js';
import { Emitter, type Unsubscribe } from './emitter.js';

/** Typing indicator settings. */
export interface TypingOptions {
  /** The client event carrying `{typing, user_id}` (default `client-typing`). */
  event?: `client-${string}`;
  /** A start is sent at most this often while typing goes on (default 2 s). */
  throttleMs?: number;
  /** Without input for this long, typing stops by itself (default 3 s). */
  idleMs?: number;
  /** A remote user who sent nothing for this long is no longer shown (default 5 s). */
  expireMs?: number;
  /** This user's id: never shown as typing (default: the presence channel's `me`). */
  userId?: string;
}

const DEFAULTS = { event: 'client-typing', throttleMs: 2_000, idleMs: 3_000, expireMs: 5_000 } as const;

interface TypingPayload {
  typing?: boolean;
  user_id?: string;
}

/**
 * Who is typing on a private or presence channel. Call `typing()` on each
 * keystroke and `stop()` when the message is sent; read `users` or listen
 * to `change`.
 */
export class Typing extends Emitter<{ change: string[] }> {
  private readonly remote = new Map<string, ReturnType<typeof setTimeout>>();
  private lastSent = -Infinity;
  private active = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly o: Required<Omit<TypingOptions, 'userId'>>;
  private readonly unbind: Unsubscribe;

  constructor(
    private readonly channel: Channel,
    private readonly opts: TypingOptions = {},
  ) {
    super();
    this.o = {
      event: opts.event ?? DEFAULTS.event,
      throttleMs: opts.throttleMs ?? DEFAULTS.throttleMs,
      idleMs: opts.idleMs ?? DEFAULTS.idleMs,
      expireMs: opts.expireMs ?? DEFAULTS.expireMs,
    };
    this.unbind = channel.bind(this.o.event, (data: unknown, meta) => {
      const d = (data ?? {}) as TypingPayload;
      const id = meta.userId ?? d.user_id;
      if (id === undefined || id === this.me()) return;
      this.setRemote(String(id), d.typing !== false);
    });
  }

  /** The remote users typing now. */
  get users(): string[] {
    return [...this.remote.keys()];
  }

  /** Call on each keystroke. */
  typing(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), this.o.idleMs);
    const now = Date.now();
    if (!this.active || now - this.lastSent >= this.o.throttleMs) {
      this.active = true;
      this.lastSent = now;
      this.send(true);
    }
  }

  /** Call when the message was sent or the field cleared. */
  stop(): void {
    clearTimeout(this.idleTimer);
    if (!this.active) return;
    this.active = false;
    this.lastSent = -Infinity;
    this.send(false);
  }

  /** Stops listening and clears every timer. */
  dispose(): void {
    this.stop();
    this.unbind();
    for (const t of this.remote.values()) clearTimeout(t);
    this.remote.clear();
    this.removeAllListeners();
  }

  private me(): string | undefined {
    return this.opts.userId ?? (this.channel as { myId?: string }).myId;
  }

  private send(typing: boolean): void {
    const payload: TypingPayload = { typing };
    const me = this.me();
    if (me !== undefined) payload.user_id = me;
    this.channel.trigger(this.o.event, payload);
  }

  private setRemote(id: string, typing: boolean): void {
    const had = this.remote.has(id);
    clearTimeout(this.remote.get(id));
    if (typing) {
      this.remote.set(id, setTimeout(() => this.setRemote(id, false), this.o.expireMs));
    } else {
      this.remote.delete(id);
    }
    if (had !== typing) this.emit('change', this.users);
  }
}
