import type { Channel } from './channel.js';
import { Emitter } from './emitter.js';
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
/**
 * Who is typing on a private or presence channel. Call `typing()` on each
 * keystroke and `stop()` when the message is sent; read `users` or listen
 * to `change`.
 */
export declare class Typing extends Emitter<{
    change: string[];
}> {
    private readonly channel;
    private readonly opts;
    private readonly remote;
    private lastSent;
    private active;
    private idleTimer;
    private readonly o;
    private readonly unbind;
    constructor(channel: Channel, opts?: TypingOptions);
    /** The remote users typing now. */
    get users(): string[];
    /** Call on each keystroke. */
    typing(): void;
    /** Call when the message was sent or the field cleared. */
    stop(): void;
    /** Stops listening and clears every timer. */
    dispose(): void;
    private me;
    private send;
    private setRemote;
}
