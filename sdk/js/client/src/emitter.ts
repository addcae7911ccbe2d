/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/**
 * A small typed event emitter. A listener that throws does not stop the
 * others: the error is reported asynchronously, as an uncaught exception
 * would be, so one faulty handler cannot break the connection logic.
 */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<(arg: never) => void>>();

  /** Calls fn on every `event`; returns a function that removes it. */
  on<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as (arg: never) => void);
    return () => this.off(event, fn);
  }

  /** Calls fn on the next `event` only. */
  once<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): Unsubscribe {
    const off = this.on(event, (arg) => {
      off();
      fn(arg);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, fn: (arg: Events[K]) => void): void {
    const set = this.listeners.get(event);
    if (set?.delete(fn as (arg: never) => void) && set.size === 0) {
      this.listeners.delete(event);
    }
  }

  /** How many listeners are registered, for leak checks. */
  listenerCount(event?: keyof Events): number {
    if (event !== undefined) {
      return this.listeners.get(event)?.size ?? 0;
    }
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  protected emit<K extends keyof Events>(event: K, arg: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (arg: Events[K]) => void)(arg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
