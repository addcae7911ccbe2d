/** The base of every error the SDK rejects a promise with. */
export declare class HeraldError extends Error {
    /** A Pusher/Herald wire code when the server sent one. */
    readonly code: number | undefined;
    constructor(message: string, code?: number);
}
/** Wire codes of `herald_internal:nack` (docs/protocol.md). */
export declare const NackCode: {
    /** The connection may not publish on the channel. */
    readonly Unauthorized: 4009;
    /** Over client_event_rate or a hard quota. */
    readonly RateLimited: 4301;
    /** Malformed or too large: resending it fails again. */
    readonly Invalid: 4400;
    /** Not stored: resending with the same id is safe (the SDK does). */
    readonly NotStored: 4500;
};
/** The server refused a publish (`herald_internal:nack`). */
export declare class PublishRejectedError extends HeraldError {
    readonly id: string;
    constructor(id: string, code: number, message: string);
}
/**
 * A publish was not acknowledged before its deadline. If it had been sent,
 * the server may still have stored it; it is never sent again.
 */
export declare class PublishTimeoutError extends HeraldError {
    readonly id: string;
    constructor(id: string);
}
/** The outbox is full; the newest publish is the one refused. */
export declare class OutboxFullError extends HeraldError {
    readonly id: string;
    constructor(id: string, limit: number);
}
/** The client was closed, or the channel left, before the operation ended. */
export declare class ClosedError extends HeraldError {
    constructor(what: string);
}
/** An authorization (auth endpoint, authorizer, token provider) failed. */
export declare class AuthError extends HeraldError {
    readonly status?: number | undefined;
    constructor(message: string, status?: number | undefined);
}
/** An HTTP API answered with an error (history). */
export declare class HttpError extends HeraldError {
    readonly status: number;
    readonly errorCode: string;
    constructor(status: number, errorCode: string, message: string);
}
