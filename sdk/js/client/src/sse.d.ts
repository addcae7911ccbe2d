import { type RandomSource } from './backoff.js';
import type { MessageMeta } from './channel.js';
import { Emitter, type Unsubscribe } from './emitter.js';
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
interface StreamEvents {
    state: StreamState;
    /** After a reconnection, whether the server replayed everything missed. */
    resumed: {
        recovered: boolean;
    };
    error: {
        code?: number;
        message: string;
    };
}
/**
 * A receive-only transport over `GET /sse`, for pages that never publish:
 * it resumes with Last-Event-ID after a cut, backs off with full jitter
 * and asks for a new token when the server ends the stream with 4009.
 */
export declare class HeraldStream extends Emitter<StreamEvents> {
    private readonly opts;
    private _state;
    private lastEventId;
    private readonly abort;
    private readonly handlers;
    private attempts;
    constructor(opts: HeraldStreamOptions);
    get state(): StreamState;
    /** Calls fn for each `event` on channel. */
    bind(channel: string, event: string, fn: (data: unknown, meta: MessageMeta) => void): Unsubscribe;
    close(): void;
    private setState;
    private run;
    private read;
    private dispatch;
}
export {};
