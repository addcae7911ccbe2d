import { type ChannelAuth, type HeadersProvider, type UserAuth } from './auth.js';
import type { RandomSource } from './backoff.js';
import { Channel, type EventMap, type MessageMeta } from './channel.js';
import { Connection, type ConnectionTimings, type WebSocketConstructor } from './connection.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import type { Environment } from './environment.js';
import { type HistoryOptions, type HistoryPage } from './history.js';
import { type OutboxOptions } from './outbox.js';
import { PresenceChannel } from './presence.js';
import { UserSession } from './user.js';
/** Decrypts a private-encrypted channel's data with its shared secret (see `@herald/client/encrypted`). */
export type Decryptor = (sharedSecretBase64: string, data: unknown) => unknown;
/** Options of `new Herald(…)`. Only `key` and `url` are required. */
export interface HeraldOptions extends ConnectionTimings {
    /** The app key. */
    key: string;
    /** Herald's base URL, e.g. `http://127.0.0.1:6001` (a path is kept as a prefix). */
    url: string;
    /** A URL the SDK POSTs `socket_id` and `channel_name` to for private and presence channels. */
    authEndpoint?: string;
    /** Headers for authEndpoint and userAuthEndpoint, asked for on every request. */
    headers?: HeadersProvider;
    /** Authorizes a channel in code instead of authEndpoint. */
    authorizer?: (channel: string, socketId: string) => Promise<ChannelAuth>;
    /** A URL the SDK POSTs `socket_id` to for `signin()`. */
    userAuthEndpoint?: string;
    /** Authenticates the user in code instead of userAuthEndpoint. */
    userAuthenticator?: (socketId: string) => Promise<UserAuth>;
    /** Fetches a Herald token: at connect, on token_expiring, and once on a 4009 close. */
    tokenProvider?: () => Promise<string>;
    /** The WebSocket class, where there is no global one (Node before 22: the `ws` package). */
    WebSocket?: WebSocketConstructor;
    /** The app id for history, when tokens do not carry it. */
    appId?: string;
    outbox?: OutboxOptions;
    decryptor?: Decryptor;
    /** Random source for backoff jitter (tests). */
    random?: RandomSource;
    /** Online/offline and visibility source (tests). */
    environment?: Environment;
    /** fetch, where there is no global one. */
    fetch?: typeof fetch;
    /** Connect at once (default true), as pusher-js does. */
    autoConnect?: boolean;
}
/** Options of `subscribe`. */
export interface SubscribeOptions {
    /** Replay the last n messages (at most 100) on the first subscribe. */
    rewind?: number;
}
export interface PublishOptions {
    /** Makes resends idempotent; generated when absent. */
    id?: string;
    /** How long the publish may wait for its ack (default 60 s, at most 110 s). */
    deadlineMs?: number;
}
interface HeraldEvents {
    /** Every acked publish, restored ones included. */
    published: {
        id: string;
        channel: string;
        serial: number;
    };
    /** Every publish that failed (nack, deadline, close). */
    publish_failed: {
        id: string;
        channel: string;
        error: Error;
    };
    /** A non-fatal `pusher:error`. */
    error: {
        code?: number;
        message?: string;
    };
}
type GlobalHandler = (event: string, data: unknown, meta: MessageMeta) => void;
/**
 * A Herald client: one connection, its channels, acked publishes and the
 * signed-in user. It connects as soon as it is made.
 */
export declare class Herald extends Emitter<HeraldEvents> {
    private readonly opts;
    readonly connection: Connection;
    readonly user: UserSession;
    private readonly channels;
    private readonly globals;
    private readonly outbox;
    private readonly base;
    private readonly fetchFn;
    private readonly host;
    private closed;
    constructor(opts: HeraldOptions);
    /** The current socket id, while connected. */
    get socketId(): string | undefined;
    /** Connects (again, after close() or `failed`). */
    connect(): void;
    /** Joins a channel (or returns the one already joined). */
    subscribe<E extends EventMap = EventMap>(name: string, opts?: SubscribeOptions): Channel<E>;
    /** Joins a presence channel. */
    subscribePresence<E extends EventMap = EventMap, Info = unknown>(name: `presence-${string}`): PresenceChannel<E, Info>;
    /** The joined channel of that name. */
    channel<E extends EventMap = EventMap>(name: string): Channel<E> | undefined;
    /** How many channels are joined, for leak checks. */
    get channelCount(): number;
    /** Leaves a channel and drops its handlers. */
    unsubscribe(name: string): void;
    /** Calls fn for every event on every channel. */
    bind_global(fn: GlobalHandler): Unsubscribe;
    /**
     * Publishes through `herald:publish` and resolves with the stored
     * message's serial once acknowledged. While the connection is down it
     * waits in the outbox (see OutboxOptions); it rejects with a
     * PublishRejectedError on a nack, a PublishTimeoutError after its
     * deadline, an OutboxFullError when the outbox is full.
     */
    publish(channel: string, event: string, data: unknown, opts?: PublishOptions): Promise<{
        serial: number;
    }>;
    /** How many publishes wait for their ack. */
    get pendingPublishes(): number;
    /** A history page of a channel, read with the token (which needs `history`). */
    history(channel: string, opts?: HistoryOptions): Promise<HistoryPage>;
    /** Ends the connection, every channel and every waiting publish. */
    close(): void;
    private onConnected;
    private onMessage;
    private sendPublish;
    private sendSubscribe;
    private authorize;
    private authenticateUser;
    /** Reads the messages missed after ch.lastSerial from history, in order. */
    private fillGap;
}
export {};
