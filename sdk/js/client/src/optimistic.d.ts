import { Emitter } from './emitter.js';
/** An item shown before (pending) or after (confirmed) the server stored it. */
export interface OptimisticItem<T> {
    id: string;
    value: T;
    status: 'pending' | 'confirmed';
    /** The server's serial, once confirmed. */
    serial?: number;
}
interface OptimisticEvents<T> {
    change: ReadonlyArray<OptimisticItem<T>>;
    rolled_back: {
        item: OptimisticItem<T>;
        error: unknown;
    };
}
/**
 * A list with optimistic additions: `submit` shows the item at once,
 * confirms it with the server's serial on the ack and removes it again on
 * a nack or a deadline. `receive` adds items from live events, skipping
 * those already shown.
 */
export declare class OptimisticList<T> extends Emitter<OptimisticEvents<T>> {
    private list;
    get items(): ReadonlyArray<OptimisticItem<T>>;
    /**
     * Shows value as pending, then runs publish (e.g.
     * `(id) => herald.publish(channel, event, value, { id })`).
     * Resolves with the confirmed item; rejects after rolling back.
     */
    submit(id: string, value: T, publish: (id: string) => Promise<{
        serial: number;
    }>): Promise<OptimisticItem<T>>;
    /** Adds an item that arrived live, unless one with its id or serial is shown. */
    receive(id: string, value: T, serial?: number): void;
    private update;
}
export {};
