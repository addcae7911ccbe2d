/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;
/**
 * A small typed event emitter. A listener that throws does not stop the
 * others: the error is reported asynchronously, as an uncaught exception
 * would be, so one faulty handler cannot break the connection logic.
 */
export declare class Emitter<Events extends {
    [K in keyof Events]: unknown;
}> {
    private readonly listeners;
    /** Calls fn on every `event`; returns a function that removes it. */
    on<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): Unsubscribe;
    /** Calls fn on the next `event` only. */
    once<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): Unsubscribe;
    off<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): void;
    /** How many listeners are registered, for leak checks. */
    listenerCount(event?: keyof Events): number;
    protected emit<K extends keyof Events>(event: K, arg: Events[K]): void;
    protected removeAllListeners(): void;
}
