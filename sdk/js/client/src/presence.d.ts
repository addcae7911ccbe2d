import { Channel, type EventMap } from './channel.js';
import type { Unsubscribe } from './emitter.js';
import { type Frame } from './frames.js';
/** A presence channel member. */
export interface Member<Info = unknown> {
    id: string;
    info: Info;
}
type MemberEvent = 'member_added' | 'member_removed';
/**
 * A presence channel: who is here. Members survive a reconnection; when
 * the channel resumes, the new roster is compared with the old one and
 * only real changes are reported, so a quick resume shows no leave/join.
 */
export declare class PresenceChannel<E extends EventMap = EventMap, Info = unknown> extends Channel<E> {
    /** The members by user id. */
    readonly members: Map<string, Info>;
    private readonly memberHandlers;
    /** This connection's own user id, when known (from channel_data or the token). @internal */
    myId: string | undefined;
    /** This connection's member, once subscribed. */
    get me(): Member<Info> | undefined;
    /** How many distinct users are here. */
    get count(): number;
    /** Calls fn when a user joins or leaves. */
    onMember(event: MemberEvent, fn: (m: Member<Info>) => void): Unsubscribe;
    handlerCount(): number;
    dispose(): void;
    protected onInternal(f: Frame): boolean;
    protected onSubscribed(data: unknown): void;
    private fire;
}
export {};
