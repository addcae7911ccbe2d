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
  watch(handlers: { online(): void; offline(): void; visible(): void }): Unsubscribe;
}

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/** The environment of the global scope (window, worker or Node). */
export function globalEnvironment(): Environment {
  const g = globalThis as unknown as {
    navigator?: { onLine?: boolean };
    document?: EventTargetLike & { visibilityState?: string };
  } & Partial<EventTargetLike>;
  return {
    isOnline: () => g.navigator?.onLine !== false,
    watch(h) {
      const offs: Unsubscribe[] = [];
      const listen = (target: EventTargetLike | undefined, type: string, fn: () => void) => {
        if (typeof target?.addEventListener !== 'function') return;
        target.addEventListener(type, fn);
        offs.push(() => target.removeEventListener(type, fn));
      };
      const scope = typeof g.addEventListener === 'function' ? (g as EventTargetLike) : undefined;
      listen(scope, 'online', h.online);
      listen(scope, 'offline', h.offline);
      const doc = g.document;
      listen(doc, 'visibilitychange', () => {
        if (doc?.visibilityState === 'visible') h.visible();
      });
      return () => offs.forEach((off) => off());
    },
  };
}
