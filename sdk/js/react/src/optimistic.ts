/** Where an optimistic item stands. */
export type OptimisticStatus = 'pending' | 'sent' | 'failed';

/** A list item with its optimistic state: absent on items the server sent. */
export interface Optimistic {
  id: string;
  status?: OptimisticStatus;
}

/** How optimisticList reads and writes the list, wherever it lives. */
export interface OptimisticStore<T extends Optimistic> {
  get: () => ReadonlyArray<T>;
  set: (next: T[]) => void;
}

/** Immutable operations on a list of items with ids, some optimistic. */
export interface OptimisticListOps<T extends Optimistic> {
  /** Shows item at once as pending (replacing one with its id, as a retry does). */
  add: (item: T) => void;
  /** Marks it sent; server fields, when given, replace the optimistic ones (a server copy already received stays). */
  confirm: (id: string, server?: Partial<T>) => void;
  /** Marks it failed (kept, so the user can retry or dismiss it). */
  fail: (id: string) => void;
  /** Removes it. */
  remove: (id: string) => void;
  /**
   * An item the server sent (a live event, history): replaces the
   * optimistic item with its id, or is added once; a duplicate is ignored.
   */
  receive: (item: T) => void;
}

/**
 * Optimistic updates over any store (Zustand, Redux, useState, a React
 * Query cache): every operation reads the list with get, builds a new one
 * and writes it with set, never mutating the old one, so selectors and
 * memoised components see a change only where there is one.
 */
export function optimisticList<T extends Optimistic>(store: OptimisticStore<T>): OptimisticListOps<T> {
  const update = (id: string, fn: (item: T) => T | undefined) => {
    const list = store.get();
    const i = list.findIndex((it) => it.id === id);
    const old = list[i];
    if (!old) return;
    const next = [...list];
    const item = fn(old);
    if (item) next[i] = item;
    else next.splice(i, 1);
    store.set(next);
  };
  return {
    add: (item) => {
      const list = store.get();
      const pending = { ...item, status: 'pending' as const };
      store.set(list.some((it) => it.id === item.id) ? list.map((it) => (it.id === item.id ? pending : it)) : [...list, pending]);
    },
    // An item without a status is the server's copy already: it stays as is.
    confirm: (id, server) => update(id, (it) => (it.status === undefined ? it : { ...it, ...server, status: 'sent' })),
    fail: (id) => update(id, (it) => (it.status === undefined || it.status === 'sent' ? it : { ...it, status: 'failed' })),
    remove: (id) => update(id, () => undefined),
    receive: (item) => {
      const list = store.get();
      const old = list.find((it) => it.id === item.id);
      if (!old) {
        store.set([...list, item]);
        return;
      }
      // A server copy replaces the optimistic one; a second copy is a duplicate.
      if (old.status === undefined) return;
      const { status: _status, ...server } = item;
      store.set(list.map((it) => (it.id === item.id ? ({ ...server } as T) : it)));
    },
  };
}
