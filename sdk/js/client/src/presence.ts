import { Channel, type EventMap } from './channel.js';
import type { Unsubscribe } from './emitter.js';
import { type Frame, dataObject } from './frames.js';

/** A presence channel member. */
export interface Member<Info = unknown> {
  id: string;
  info: Info;
}

interface Roster {
  presence?: { ids?: string[]; hash?: Record<string, unknown>; count?: number };
}

type MemberEvent = 'member_added' | 'member_removed';

/**
 * A presence channel: who is here. Members survive a reconnection; when
 * the channel resumes, the new roster is compared with the old one and
 * only real changes are reported, so a quick resume shows no leave/join.
 */
export class PresenceChannel<E extends EventMap = EventMap, Info = unknown> extends Channel<E> {
  /** The members by user id. */
  readonly members = new Map<string, Info>();
  private readonly memberHandlers: Record<MemberEvent, Set<(m: Member<Info>) => void>> = {
    member_added: new Set(),
    member_removed: new Set(),
  };
  /** This connection's own user id, when known (from channel_data or the token). @internal */
  myId: string | undefined;

  /** This connection's member, once subscribed. */
  get me(): Member<Info> | undefined {
    if (this.myId === undefined || !this.members.has(this.myId)) return undefined;
    return { id: this.myId, info: this.members.get(this.myId) as Info };
  }

  /** How many distinct users are here. */
  get count(): number {
    return this.members.size;
  }

  /** Calls fn when a user joins or leaves. */
  onMember(event: MemberEvent, fn: (m: Member<Info>) => void): Unsubscribe {
    this.memberHandlers[event].add(fn);
    return () => this.memberHandlers[event].delete(fn);
  }

  override handlerCount(): number {
    return super.handlerCount() + this.memberHandlers.member_added.size + this.memberHandlers.member_removed.size;
  }

  override dispose(): void {
    super.dispose();
    this.members.clear();
    this.memberHandlers.member_added.clear();
    this.memberHandlers.member_removed.clear();
  }

  protected override onInternal(f: Frame): boolean {
    if (f.event === 'pusher_internal:member_added') {
      const d = dataObject<{ user_id: string; user_info: Info }>(f.data);
      if (d.user_id !== undefined && !this.members.has(String(d.user_id))) {
        this.members.set(String(d.user_id), d.user_info as Info);
        this.fire('member_added', { id: String(d.user_id), info: d.user_info as Info });
      }
      return true;
    }
    if (f.event === 'pusher_internal:member_removed') {
      const id = dataObject<{ user_id: string }>(f.data).user_id;
      if (id !== undefined && this.members.has(String(id))) {
        const info = this.members.get(String(id)) as Info;
        this.members.delete(String(id));
        this.fire('member_removed', { id: String(id), info });
      }
      return true;
    }
    return false;
  }

  protected override onSubscribed(data: unknown): void {
    const p = dataObject<Roster>(data).presence ?? {};
    const next = new Map<string, Info>();
    for (const id of p.ids ?? []) next.set(String(id), (p.hash?.[id] ?? null) as Info);
    // The first roster is the starting point, not a series of joins.
    const resumed = this.everSubscribed;
    const gone = [...this.members].filter(([id]) => !next.has(id));
    const added = [...next].filter(([id]) => !this.members.has(id));
    this.members.clear();
    for (const [id, info] of next) this.members.set(id, info);
    super.onSubscribed(data);
    if (!resumed) return;
    for (const [id, info] of gone) this.fire('member_removed', { id, info });
    for (const [id, info] of added) this.fire('member_added', { id, info });
  }

  private fire(event: MemberEvent, m: Member<Info>): void {
    for (const fn of [...this.memberHandlers[event]]) {
      try {
        fn(m);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
