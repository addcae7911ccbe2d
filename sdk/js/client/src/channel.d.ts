import { Emitter, type Unsubscribe } from './emitter.js';
import { type Frame } from './frames.js';
import type { HistoryOptions, HistoryPage } from './history.js';
/** A channel's subscription state. */
export type ChannelState = 'subscribing' | 'subscribed' | 'failed' | 'unsubscribed';
/** What comes with each event besides its data. */
export interface MessageMeta {
    channel: string;
    event: string;
    /** Herald: the message's position in the message stream (absent on client events of plain Pusher servers). */
    serial?: number;
    /** The sender's user id (client events on presence channels). */
    userId?: string;
}
/** A map of event names to their data types, for typed binds. */
export type EventMap = Record<string, unknown>;
/** The outcome of a resume after a reconnect. */
export interface ResumeResult {
    /** Whether the server replayed everything missed. */
    recovered: boolean;
    /** When not recovered: whether the gap was filled from history (else the app should refetch). */
    filled: boolean;
}
/** A refused subscribe (`pusher:subscription_error`), or a failed authorization. */
export interface SubscriptionError {
    type: string;
    error: string;
    status?: number;
}
export interface ChannelEvents {
    subscribed: void;
    resumed: ResumeResult;
    error: SubscriptionError;
    state: ChannelState;
    subscription_count: number;
    cache_miss: void;
}
/** What a channel needs from its client. @internal */
export interface ChannelHost {
    trigger(channel: string, event: string, data: unknown): boolean;
    history(channel: string, opts: HistoryOptions): Promise<HistoryPage>;
    publish(channel: string, event: string, data: unknown, opts?: {
        id?: string;
        deadlineMs?: number;
    }): Promise<{
        serial: number;
    }>;
    /** Fills the gap after a resume that was not recovered; false when history is not allowed. */
    fillGap(channel: Channel): Promise<boolean>;
    decrypt(channel: Channel, data: unknown): unknown;
    /** Every delivered event, for the client's global handlers. */
    delivered(event: string, data: unknown, meta: MessageMeta): void;
}
type GlobalHandler = (event: string, data: unknown, meta: MessageMeta) => void;
/**
 * A subscribed channel. Events are delivered once each and in serial
 * order, across reconnections, resumes and history gap fills.
 */
export declare class Channel<E extends EventMap = EventMap> extends Emitter<ChannelEvents> {
    readonly name: string;
    /** @internal */ readonly options: {
        rewind?: number;
    };
    /** @internal */ protected readonly host: ChannelHost;
    private _state;
    private readonly handlers;
    private readonly globals;
    private ownSerials;
    private buffered;
    /** The last serial delivered. @internal */
    lastSerial: number | undefined;
    /** When the connection was lost, for rewind on resume. @internal */
    lostAt: number | undefined;
    /** Whether the server accepted a subscribe once. @internal */
    everSubscribed: boolean;
    /** An encrypted channel's key (base64), from its authorization. @internal */
    sharedSecret: string | undefined;
    /** The latest `subscription_count`, when the server sent one. */
    subscriptionCount: number | undefined;
    /** @internal */
    constructor(name: string, 
    /** @internal */ options: {
        rewind?: number;
    }, 
    /** @internal */ host: ChannelHost);
    get state(): ChannelState;
    /** Calls fn for each `event`, with data parsed as JSON where it is JSON. */
    bind<K extends keyof E & string>(event: K, fn: (data: E[K], meta: MessageMeta) => void): Unsubscribe;
    /** Removes fn, or every handler of event when fn is absent. */
    unbind<K extends keyof E & string>(event: K, fn?: (data: E[K], meta: MessageMeta) => void): void;
    /** Calls fn for every event of the channel. */
    bind_global(fn: GlobalHandler): Unsubscribe;
    unbind_global(fn?: GlobalHandler): void;
    /** Sends a client event (`client-…`, private and presence channels); false when not subscribed. */
    trigger(event: `client-${string}`, data: unknown): boolean;
    /** An acknowledged publish on this channel (see Herald.publish). */
    publish(event: string, data: unknown, opts?: {
        id?: string;
        deadlineMs?: number;
    }): Promise<{
        serial: number;
    }>;
    /** A page of the channel's history (needs a token with `history`). */
    history(opts?: HistoryOptions): Promise<HistoryPage>;
    /** How many handlers are bound, for leak checks. */
    handlerCount(): number;
    /** @internal */
    setState(state: ChannelState): void;
    /** @internal The server stored one of our publishes: never deliver it back. */
    noteOwnSerial(serial: number): void;
    /** @internal The connection went away. */
    suspend(): void;
    /** @internal Leaves for good: drops every handler. */
    dispose(): void;
    /** @internal A frame for this channel. */
    handle(f: Frame): void;
    /** @internal */
    fail(err: SubscriptionError): void;
    /** Presence channels handle their member events here. */
    protected onInternal(_f: Frame): boolean;
    protected onSubscribed(_data: unknown): void;
    /** @internal Delivers one message (live, replayed or from history). */
    deliver(f: Frame): void;
    private call;
    private onResumeResult;
    private endFill;
}
export {};
