import type { Unsubscribe } from './emitter.js';
/**
 * What the connection learns from its host: whether the network is up,
 * and when it comes back, goes away or the page becomes visible again.
 * Browsers and web workers have `online`/`offline` and page visibility;
 * Node has none of these and is always "online".
 */
export interface Environment {
    isOnline(): boolean;
    /** Registers the callbacks; the returned function removes them. */
    watch(handlers: {
        online(): void;
        offline(): void;
        visible(): void;
    }): Unsubscribe;
}
/** The environment of the global scope (window, worker or Node). */
export declare function globalEnvironment(): Environment;
