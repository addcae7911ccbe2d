import { type RandomSource } from './backoff.js';
import { Emitter } from './emitter.js';
import { type Environment } from './environment.js';
import { type Frame } from './frames.js';
/** The states of a connection (see the package README for the diagram). */
export type ConnectionState = 'initialized' | 'connecting' | 'connected' | 'reconnecting' | 'suspended' | 'disconnected' | 'failed';
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
    onmessage: ((ev: {
        data: unknown;
    }) => void) | null;
    onclose: ((ev: {
        code: number;
        reason: string;
    }) => void) | null;
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
    /** How long an attempt may take to be established (default 10 s). */
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
    /** Fetches a token; absent for connections without tokens. */
    getToken?: () => Promise<string>;
    random?: RandomSource;
    environment?: Environment;
}
interface ConnectionEvents {
    change: StateChange;
    /** Every frame that is not the connection's own business. */
    message: Frame;
    /** A new socket id (after each (re)connection). */
    connected: {
        socketId: string;
    };
    /** The socket went away (before the state says what comes next). */
    lost: {
        code: number;
        reason: string;
    };
    /** A `pusher:error` frame. */
    error: {
        code?: number;
        message?: string;
    };
}
/**
 * One logical connection to Herald over successive WebSockets: the state
 * machine, heartbeat, backoff and token refresh. Channels live above it.
 */
export declare class Connection extends Emitter<ConnectionEvents> {
    private readonly opts;
    private _state;
    private _socketId;
    private ws;
    /** Bumped for each socket and on close: stale callbacks compare it. */
    private generation;
    private attempts;
    private lostAt;
    private everConnected;
    private userClosed;
    private authRetried;
    private token;
    private retryTimer;
    private connectTimer;
    private idleTimer;
    private pongTimer;
    private idleMs;
    private readonly t;
    private readonly random;
    private readonly env;
    private unwatch;
    constructor(opts: ConnectionOptions);
    get state(): ConnectionState;
    /** The server's id for the current socket, while connected. */
    get socketId(): string | undefined;
    /** The token in use, when connecting with tokens. */
    get currentToken(): string | undefined;
    /** Starts connecting (again, after `disconnected` or `failed`). */
    connect(): void;
    /** Ends the connection for good (until connect() is called again). */
    close(): void;
    /** Sends a frame; false when not connected (nothing is sent). */
    send(event: string, data: unknown, channel?: string): boolean;
    /**
     * Checks the connection now: a ping with a short deadline when connected,
     * an immediate attempt when waiting to reconnect.
     */
    check(): void;
    private onOnline;
    private onOffline;
    private attempt;
    private onFrame;
    private refreshToken;
    private armHeartbeat;
    private ping;
    /** Forgets the current socket without waiting for its close event. */
    private dropSocket;
    /** A socket (or an attempt) ended: decide when to try again. */
    private lose;
    private fail;
    private clearRetry;
    private setState;
}
export {};
