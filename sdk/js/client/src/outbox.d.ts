/** A publish waiting for its ack, as persisted. */
export interface OutboxEntry {
    id: string;
    channel: string;
    event: string;
    data: unknown;
    /** Unix ms after which it is given up. */
    deadline: number;
    /** Insertion order, kept across reloads. */
    seq: number;
}
/** Where waiting publishes are kept (memory, IndexedDB, or your own). */
export interface OutboxStore {
    load(): Promise<OutboxEntry[]>;
    put(entry: OutboxEntry): Promise<void>;
    delete(id: string): Promise<void>;
}
/** Keeps entries for the life of the page or process. */
export declare class MemoryOutboxStore implements OutboxStore {
    private readonly entries;
    load(): Promise<OutboxEntry[]>;
    put(e: OutboxEntry): Promise<void>;
    delete(id: string): Promise<void>;
}
/** Keeps entries in IndexedDB, so that they survive a reload. */
export declare class IndexedDbOutboxStore implements OutboxStore {
    private readonly dbName;
    private readonly idb;
    private db;
    constructor(dbName: string, idb?: IDBFactory);
    private open;
    private run;
    load(): Promise<OutboxEntry[]>;
    put(e: OutboxEntry): Promise<void>;
    delete(id: string): Promise<void>;
}
/** Outbox settings. */
export interface OutboxOptions {
    /** The most publishes waiting at once (default 100); beyond, the newest is refused. */
    maxSize?: number;
    /** How long a publish may wait for its ack (default 60 s, at most 110 s). */
    deadlineMs?: number;
    store?: OutboxStore;
}
/** The default per-publish deadline. */
export declare const DEFAULT_DEADLINE_MS = 60000;
/**
 * The longest deadline: a resend must fall inside the server's 2-minute
 * idempotency window, so that it is never delivered twice.
 */
export declare const MAX_DEADLINE_MS = 110000;
export declare const DEFAULT_OUTBOX_SIZE = 100;
export interface OutboxHooks {
    /** Sends one entry; false when it cannot be sent now. */
    send(entry: OutboxEntry): boolean;
    settled(entry: OutboxEntry, result: {
        serial: number;
    } | Error): void;
}
/**
 * Acknowledged publishes: queued while they cannot be sent, persisted,
 * de-duplicated by id, resent in order with the same id after a
 * reconnection, each with a deadline after which it is rejected.
 */
export declare class Outbox {
    private readonly hooks;
    private readonly pending;
    private readonly maxSize;
    private readonly deadlineMs;
    private readonly store;
    private seq;
    private retryTimer;
    constructor(opts: OutboxOptions, hooks: OutboxHooks);
    /** How many publishes wait for an ack. */
    get size(): number;
    /** Queues a publish and sends it when it can; the same id joins the waiting one. */
    add(e: Omit<OutboxEntry, 'deadline' | 'seq'>, deadlineMs?: number): Promise<{
        serial: number;
    }>;
    /** Re-queues what the store kept from an earlier page or process. */
    restore(): Promise<void>;
    /** Sends every unsent entry that can be sent now, oldest first. */
    flush(): void;
    /** The socket went away: whatever was not acked is sent again later. */
    unsend(): void;
    /** The entry with this id, if waiting. */
    get(id: string): OutboxEntry | undefined;
    ack(id: string, serial: number): void;
    nack(id: string, code: number, message: string): void;
    /** Rejects everything (the client is closing) and forgets it. */
    close(): void;
    private track;
    private settle;
    private persist;
}
