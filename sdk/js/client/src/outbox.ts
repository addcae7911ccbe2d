import { ClosedError, NackCode, OutboxFullError, PublishRejectedError, PublishTimeoutError } from './errors.js';

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
export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>();
  async load(): Promise<OutboxEntry[]> {
    return [...this.entries.values()];
  }
  async put(e: OutboxEntry): Promise<void> {
    this.entries.set(e.id, e);
  }
  async delete(id: string): Promise<void> {
    this.entries.delete(id);
  }
}

const IDB_STORE = 'outbox';

/** Keeps entries in IndexedDB, so that they survive a reload. */
export class IndexedDbOutboxStore implements OutboxStore {
  private db: Promise<IDBDatabase> | undefined;
  constructor(
    private readonly dbName: string,
    private readonly idb: IDBFactory = indexedDB,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const req = this.idb.open(this.dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE, { keyPath: 'id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const req = op(db.transaction(IDB_STORE, mode).objectStore(IDB_STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  load(): Promise<OutboxEntry[]> {
    return this.run('readonly', (s) => s.getAll() as IDBRequest<OutboxEntry[]>);
  }
  async put(e: OutboxEntry): Promise<void> {
    await this.run('readwrite', (s) => s.put(e));
  }
  async delete(id: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(id));
  }
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
export const DEFAULT_DEADLINE_MS = 60_000;
/**
 * The longest deadline: a resend must fall inside the server's 2-minute
 * idempotency window, so that it is never delivered twice.
 */
export const MAX_DEADLINE_MS = 110_000;
export const DEFAULT_OUTBOX_SIZE = 100;
/**
 * The wait after a publish nacked as retriable: 4500 (not stored) or 4301
 * (over the app's per-second client message rate, which a flush after a
 * reconnection easily is). No publish is sent on the connection until it
 * has passed, so that a refused one is not overtaken and the refill of the
 * server's rate is not spent on sends it would refuse.
 */
const RETRY_AFTER_NACK_MS = 1_000;
const RETRIABLE_NACKS: readonly number[] = [NackCode.NotStored, NackCode.RateLimited];

interface Pending {
  entry: OutboxEntry;
  promise: Promise<{ serial: number }>;
  resolve(v: { serial: number }): void;
  reject(e: Error): void;
  sent: boolean;
  /**
   * Sent before without an ack (on a connection since lost, or by an
   * earlier page or process): the server may have stored it already.
   */
  inDoubt: boolean;
  timer: ReturnType<typeof setTimeout>;
  /** The last retriable nack: what the deadline rejects with. */
  lastNack?: PublishRejectedError;
}

export interface OutboxHooks {
  /** Sends one entry; false when it cannot be sent now. */
  send(entry: OutboxEntry): boolean;
  settled(entry: OutboxEntry, result: { serial: number } | Error): void;
}

/**
 * Acknowledged publishes: queued while they cannot be sent, persisted,
 * de-duplicated by id, resent in order with the same id after a
 * reconnection, each with a deadline after which it is rejected.
 *
 * A channel has at most one publish in flight: the next is sent once the
 * previous was acked or failed. The server processes a connection's frames
 * in order, but it may refuse one (4301, 4500) and accept the next (its
 * rate refilled in between); with one in flight nothing can overtake a
 * refused publish, so a channel's acked publishes are stored in the order
 * they were published. Channels still go in parallel.
 */
export class Outbox {
  private readonly pending = new Map<string, Pending>();
  private readonly maxSize: number;
  private readonly deadlineMs: number;
  private readonly store: OutboxStore;
  private seq = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    opts: OutboxOptions,
    private readonly hooks: OutboxHooks,
  ) {
    this.maxSize = opts.maxSize ?? DEFAULT_OUTBOX_SIZE;
    this.deadlineMs = Math.min(opts.deadlineMs ?? DEFAULT_DEADLINE_MS, MAX_DEADLINE_MS);
    this.store = opts.store ?? new MemoryOutboxStore();
  }

  /** How many publishes wait for an ack. */
  get size(): number {
    return this.pending.size;
  }

  /** Queues a publish and sends it when it can; the same id joins the waiting one. */
  add(e: Omit<OutboxEntry, 'deadline' | 'seq'>, deadlineMs?: number): Promise<{ serial: number }> {
    const existing = this.pending.get(e.id);
    if (existing) return existing.promise;
    if (this.pending.size >= this.maxSize) return Promise.reject(new OutboxFullError(e.id, this.maxSize));
    const wait = Math.min(deadlineMs ?? this.deadlineMs, MAX_DEADLINE_MS);
    const entry: OutboxEntry = { ...e, deadline: Date.now() + wait, seq: Date.now() * 1000 + (this.seq++ % 1000) };
    const p = this.track(entry);
    this.persist(this.store.put(entry));
    this.flush();
    return p.promise;
  }

  /** Re-queues what the store kept from an earlier page or process. */
  async restore(): Promise<void> {
    const entries = (await this.store.load()).sort((a, b) => a.seq - b.seq);
    for (const e of entries) {
      if (this.pending.has(e.id)) continue;
      if (e.deadline <= Date.now()) {
        this.persist(this.store.delete(e.id));
        continue;
      }
      // Nobody awaits a restored publish: its outcome goes to settled().
      // The earlier page may have sent it.
      const p = this.track(e);
      p.inDoubt = true;
      p.promise.catch(() => {});
    }
    this.flush();
  }

  /**
   * Sends the oldest waiting publish of each channel that has none in
   * flight, unless a retriable nack paused sending.
   */
  flush(): void {
    if (this.retryTimer !== undefined) return;
    const busy = new Set<string>();
    for (const p of [...this.pending.values()].sort((a, b) => a.entry.seq - b.entry.seq)) {
      const ch = p.entry.channel;
      if (busy.has(ch)) continue;
      // A channel whose oldest publish cannot be sent now sends none after it.
      busy.add(ch);
      if (!p.sent && this.hooks.send(p.entry)) p.sent = true;
    }
  }

  /** The socket went away: whatever was not acked is sent again later. */
  unsend(): void {
    // A new connection has a fresh rate: no need to wait out a nack.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const p of this.pending.values()) {
      if (p.sent) p.inDoubt = true;
      p.sent = false;
    }
  }

  /** The ids of channel's publishes the server may have stored without their ack reaching us. */
  inDoubt(channel: string): string[] {
    const ids: string[] = [];
    for (const p of this.pending.values()) if (p.inDoubt && p.entry.channel === channel) ids.push(p.entry.id);
    return ids;
  }

  /** The entry with this id, if waiting. */
  get(id: string): OutboxEntry | undefined {
    return this.pending.get(id)?.entry;
  }

  ack(id: string, serial: number): void {
    this.settle(id, { serial });
  }

  nack(id: string, code: number, message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (RETRIABLE_NACKS.includes(code)) {
      // Safe to resend with the same id; the deadline still applies.
      p.sent = false;
      p.lastNack = new PublishRejectedError(id, code, message);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.flush();
      }, RETRY_AFTER_NACK_MS);
      return;
    }
    this.settle(id, new PublishRejectedError(id, code, message));
  }

  /**
   * Rejects the publishes of channel (of every channel when undefined) not
   * sent yet (the channel was left, its subscription refused, or the
   * connection failed): they could only wait out their deadline. Sent ones
   * still get their ack or nack.
   */
  dropUnsent(channel: string | undefined, err: Error): void {
    for (const [id, p] of [...this.pending]) {
      if (!p.sent && (channel === undefined || p.entry.channel === channel)) this.settle(id, err);
    }
  }

  /** Rejects everything (the client is closing) and forgets it. */
  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const id of [...this.pending.keys()]) this.settle(id, new ClosedError('the client'));
  }

  private track(entry: OutboxEntry): Pending {
    let resolve!: Pending['resolve'];
    let reject!: Pending['reject'];
    const promise = new Promise<{ serial: number }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const delay = Math.max(0, entry.deadline - Date.now());
    const timer = setTimeout(() => this.settle(entry.id, p.lastNack ?? new PublishTimeoutError(entry.id)), delay);
    const p: Pending = { entry, promise, resolve, reject, sent: false, inDoubt: false, timer };
    this.pending.set(entry.id, p);
    return p;
  }

  private settle(id: string, result: { serial: number } | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    this.persist(this.store.delete(id));
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    this.hooks.settled(p.entry, result);
    // Its channel may send its next publish.
    this.flush();
  }

  private persist(op: Promise<void>): void {
    // A store that fails degrades to memory-only; the publish goes on.
    op.catch(() => {});
  }
}
