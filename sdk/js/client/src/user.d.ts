import type { UserAuth } from './auth.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame } from './frames.js';
/** A watchlist change: users of the signed-in user's watchlist came online or went offline. */
export interface WatchlistEvent {
    name: 'online' | 'offline';
    user_ids: string[];
}
interface UserEvents {
    signed_in: {
        id: string;
        userData: unknown;
    };
    error: {
        message: string;
    };
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
export declare class UserSession extends Emitter<UserEvents> {
    private readonly host;
    private wanted;
    private _id;
    private readonly handlers;
    /** @internal */
    constructor(host: UserHost);
    /** The signed-in user's id. */
    get id(): string | undefined;
    /** Signs in now (when connected) and after every reconnection. */
    signin(): void;
    /** Calls fn for each event the backend sends to this user. */
    bind(event: string, fn: (data: unknown) => void): Unsubscribe;
    /** @internal */
    attempt(): Promise<void>;
    /** @internal Handles user frames; false when the frame is not the user's. */
    handle(f: Frame): boolean;
}
export {};
