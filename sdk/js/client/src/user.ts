import type { UserAuth } from './auth.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame, dataObject, parseData } from './frames.js';

/** A watchlist change: users of the signed-in user's watchlist came online or went offline. */
export interface WatchlistEvent {
  name: 'online' | 'offline';
  user_ids: string[];
}

export interface UserEvents {
  signed_in: { id: string; userData: unknown };
  error: { message: string };
  watchlist: WatchlistEvent;
}

/** What the user session needs from its client. @internal */
export interface UserHost {
  authenticate(socketId: string): Promise<UserAuth>;
  send(event: string, data: unknown): boolean;
  socketId(): string | undefined;
}

/**
 * The signed-in user: `signin()` sends `pusher:signin` (again after each
 * reconnection), then events sent to the user (`#server-to-user-{id}`)
 * and watchlist changes arrive here.
 */
export class UserSession extends Emitter<UserEvents> {
  private wanted = false;
  private _id: string | undefined;
  private readonly handlers = new Map<string, Set<(data: unknown) => void>>();

  /** @internal */
  constructor(private readonly host: UserHost) {
    super();
  }

  /** The signed-in user's id. */
  get id(): string | undefined {
    return this._id;
  }

  /** Signs in now (when connected) and after every reconnection. */
  signin(): void {
    this.wanted = true;
    void this.attempt();
  }

  /** Calls fn for each event the backend sends to this user. */
  bind(event: string, fn: (data: unknown) => void): Unsubscribe {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.handlers.delete(event);
    };
  }

  /** @internal */
  async attempt(): Promise<void> {
    const socketId = this.host.socketId();
    if (!this.wanted || !socketId) return;
    try {
      const a = await this.host.authenticate(socketId);
      if (this.host.socketId() === socketId) this.host.send('pusher:signin', { auth: a.auth, user_data: a.user_data });
    } catch (err) {
      this.emit('error', { message: (err as Error).message });
    }
  }

  /** @internal Handles user frames; false when the frame is not the user's. */
  handle(f: Frame): boolean {
    if (f.event === 'pusher:signin_success') {
      const ud = parseData(dataObject<{ user_data: string }>(f.data).user_data) as { id?: unknown } | undefined;
      this._id = ud?.id !== undefined ? String(ud.id) : undefined;
      this.emit('signed_in', { id: this._id ?? '', userData: ud });
      return true;
    }
    if (f.event === 'pusher_internal:watchlist_events') {
      for (const e of dataObject<{ events: WatchlistEvent[] }>(f.data).events ?? []) this.emit('watchlist', e);
      return true;
    }
    if (f.channel !== undefined && f.channel.startsWith('#server-to-user-')) {
      if (!f.event.startsWith('pusher')) {
        const data = parseData(f.data);
        for (const fn of [...(this.handlers.get(f.event) ?? [])]) fn(data);
      }
      return true;
    }
    return false;
  }
}
