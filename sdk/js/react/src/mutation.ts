import type { MessageMeta } from '@herald/client';
import { type QueryKey, type UseMutationResult, useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { useLatest } from './channel.js';
import { useHerald } from './context.js';
import { newId } from './ids.js';
import { type Optimistic, type OptimisticStatus } from './optimistic.js';
import { cachedList } from './query.js';
import { acquireChannel, releaseChannel } from './registry.js';

/** How long a mutation waits for its realtime echo by default. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 10_000;

/** The echo did not arrive in time. */
export class ConfirmTimeoutError extends Error {
  constructor(readonly id: string) {
    super(`no realtime confirmation of ${id} in time`);
    this.name = 'ConfirmTimeoutError';
  }
}

export interface RealtimeMutationOptions<V, T extends Optimistic> {
  /** The channel whose events confirm a mutation. */
  channel: string;
  /** The event that echoes a stored mutation. */
  matchEvent: string;
  /** The mutation id an event carries (default: `data.id`). */
  getId?: (data: unknown, meta: MessageMeta) => string | undefined;
  /** How long to wait for the echo (default DEFAULT_CONFIRM_TIMEOUT_MS). */
  timeoutMs?: number;
  /** A React Query list (`T[]`) that shows the optimistic item; with toItem. */
  queryKey?: QueryKey;
  /** The optimistic item of a mutation. */
  toItem?: (variables: V, id: string) => T;
  /** The id of a new mutation (default: a random UUID, or `variables.id`). */
  newId?: (variables: V) => string;
}

/** One mutation and where it stands. */
export interface MutationEntry<V> {
  id: string;
  variables: V;
  status: OptimisticStatus;
  error?: Error;
}

export type RealtimeMutationResult<V, R> = Omit<UseMutationResult<R, Error, { variables: V; id: string }>, 'mutate' | 'mutateAsync'> & {
  /** Every mutation of this hook, oldest first. */
  entries: Array<MutationEntry<V>>;
  /** Starts a mutation; resolves with its entry once sent or failed, never rejects. */
  mutate: (variables: V) => Promise<MutationEntry<V>>;
  /** Runs a failed mutation again with the same id (the server de-duplicates it). */
  retry: (id: string) => Promise<MutationEntry<V>>;
};

function defaultGetId(data: unknown): string | undefined {
  const id = (data as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * A React Query mutation confirmed by Herald: each mutation is `pending`
 * until the server's own realtime echo of it (an event on `channel` named
 * `matchEvent` whose id is the mutation's) or its ack (mutationFn
 * resolving with `{ serial }`, as `herald.publish` does), then `sent`;
 * `failed` when mutationFn rejects (a nack) or no echo comes within
 * timeoutMs. With queryKey and toItem the optimistic item is shown in that
 * list and replaced by the server's (see useRealtimeCache).
 */
export function useRealtimeMutation<V, R = unknown, T extends Optimistic = Optimistic>(
  mutationFn: (variables: V, ctx: { id: string }) => Promise<R>,
  options: RealtimeMutationOptions<V, T>,
): RealtimeMutationResult<V, R> {
  const client = useHerald();
  const queryClient = useQueryClient();
  const opts = useLatest(options);
  const fn = useLatest(mutationFn);
  const waiters = useRef(new Map<string, () => void>());
  const [entries, setEntries] = useState<Array<MutationEntry<V>>>([]);
  const list = useRef(entries);
  const { channel, matchEvent } = options;
  const keyHash = options.queryKey === undefined ? undefined : JSON.stringify(options.queryKey);

  useEffect(() => {
    const ch = acquireChannel(client, channel);
    const off = ch.bind(matchEvent, (data, meta) => {
      const id = (opts.current.getId ?? defaultGetId)(data, meta);
      if (id !== undefined) waiters.current.get(id)?.();
    });
    return () => {
      off();
      releaseChannel(client, channel);
    };
  }, [client, channel, matchEvent, opts]);

  const cache = useMemo(() => (keyHash === undefined ? undefined : cachedList<T>(queryClient, keyHash)), [queryClient, keyHash]);

  const put = useCallback((entry: MutationEntry<V>) => {
    list.current = list.current.some((e) => e.id === entry.id)
      ? list.current.map((e) => (e.id === entry.id ? entry : e))
      : [...list.current, entry];
    setEntries(list.current);
  }, []);

  const mutation = useMutation<R, Error, { variables: V; id: string }>({
    mutationFn: async ({ variables, id }) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const echoed = new Promise<void>((resolve, reject) => {
        waiters.current.set(id, resolve);
        timer = setTimeout(() => reject(new ConfirmTimeoutError(id)), opts.current.timeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS);
      });
      echoed.catch(() => {});
      try {
        const result = await fn.current(variables, { id });
        if (typeof (result as { serial?: unknown } | null)?.serial !== 'number') await echoed;
        return result;
      } finally {
        clearTimeout(timer);
        waiters.current.delete(id);
      }
    },
  });
  const { mutateAsync } = mutation;

  const run = useCallback(
    async (variables: V, id: string): Promise<MutationEntry<V>> => {
      put({ id, variables, status: 'pending' });
      const toItem = opts.current.toItem;
      if (cache && toItem) cache.add(toItem(variables, id));
      let entry: MutationEntry<V>;
      try {
        await mutateAsync({ variables, id });
        entry = { id, variables, status: 'sent' };
        cache?.confirm(id);
      } catch (err) {
        entry = { id, variables, status: 'failed', error: err as Error };
        cache?.fail(id);
      }
      put(entry);
      return entry;
    },
    [put, cache, mutateAsync, opts],
  );

  const mutate = useCallback(
    (variables: V) => {
      const own = (variables as { id?: unknown } | null)?.id;
      const id = opts.current.newId?.(variables) ?? (typeof own === 'string' ? own : newId());
      return run(variables, id);
    },
    [run, opts],
  );
  const retry = useCallback(
    (id: string) => {
      const e = list.current.find((x) => x.id === id);
      if (!e) return Promise.reject(new Error(`no mutation ${id}`));
      return run(e.variables, id);
    },
    [run],
  );
  return { ...mutation, entries, mutate, retry };
}
