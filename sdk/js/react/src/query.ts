import type { MessageMeta } from '@herald/client';
import { type QueryClient, type QueryKey, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';

import { useLatest } from './channel.js';
import { useHerald } from './context.js';
import { type Optimistic, type OptimisticListOps, optimisticList } from './optimistic.js';
import { acquireChannel, releaseChannel } from './registry.js';

/**
 * optimisticList over the React Query list (`T[]`) under a query key
 * (given as its JSON, so that hooks can depend on it).
 * @internal
 */
export function cachedList<T extends Optimistic>(queryClient: QueryClient, keyJson: string): OptimisticListOps<T> {
  const key = JSON.parse(keyJson) as QueryKey;
  return optimisticList<T>({
    get: () => queryClient.getQueryData<T[]>(key) ?? [],
    set: (next) => queryClient.setQueryData<T[]>(key, next),
  });
}

/** One rule of useRealtimeInvalidation: this event invalidates these queries. */
export interface InvalidationRule<T = unknown> {
  channel: string;
  event: string;
  /** The queries to invalidate (a prefix, as invalidateQueries takes), or a function of the event. */
  queryKey: QueryKey | ((data: T, meta: MessageMeta) => QueryKey);
}

/**
 * Invalidates React Query queries when events arrive: for each rule, an
 * `event` on `channel` calls `invalidateQueries({ queryKey })`. The rules
 * may be a new array on each render; channels are joined again only when
 * the set of channel and event names changes.
 */
export function useRealtimeInvalidation(rules: ReadonlyArray<InvalidationRule<never>>): void {
  const client = useHerald();
  const queryClient = useQueryClient();
  const latest = useLatest(rules);
  const signature = JSON.stringify(rules.map((r) => [r.channel, r.event]));
  useEffect(() => {
    const pairs = JSON.parse(signature) as Array<[string, string]>;
    const offs = pairs.map(([channel, event], i) =>
      acquireChannel(client, channel).bind(event, (data, meta) => {
        const rule = latest.current[i];
        if (!rule) return;
        const key = typeof rule.queryKey === 'function' ? rule.queryKey(data as never, meta) : rule.queryKey;
        void queryClient.invalidateQueries({ queryKey: key });
      }),
    );
    // acquireChannel counted once per pair: release as many.
    return () => {
      offs.forEach((off) => off());
      for (const [channel] of pairs) releaseChannel(client, channel);
    };
  }, [client, queryClient, signature, latest]);
}

/** The events useRealtimeCache applies to its list. */
export interface RealtimeCacheEvents<T> {
  /** An event whose data is a new item. */
  onAdd?: string;
  /** An event whose data replaces the item with its id. */
  onUpdate?: string;
  /** An event whose data (an item, or `{ id }`) removes the item with its id. */
  onDelete?: string;
  /** Reads an event's data as an item (default: as is). */
  select?: (data: unknown, meta: MessageMeta) => T;
}

/**
 * Keeps a React Query list (`T[]` under queryKey) in step with a channel:
 * added items are appended once (a duplicate id is ignored, and an
 * optimistic item with that id is replaced by the server's), updated ones
 * replaced, deleted ones removed, always with setQueryData and a new
 * array (the old one is never changed).
 */
export function useRealtimeCache<T extends Optimistic>(queryKey: QueryKey, channel: string, events: RealtimeCacheEvents<T>): void {
  const client = useHerald();
  const queryClient = useQueryClient();
  const keyHash = JSON.stringify(queryKey);
  const latestEvents = useLatest(events);
  const ops = useMemo(() => cachedList<T>(queryClient, keyHash), [queryClient, keyHash]);
  const { onAdd, onUpdate, onDelete } = events;
  useEffect(() => {
    const ch = acquireChannel(client, channel);
    const read = (data: unknown, meta: MessageMeta): T => latestEvents.current.select?.(data, meta) ?? (data as T);
    const offs: Array<() => void> = [];
    if (onAdd) offs.push(ch.bind(onAdd, (d, m) => ops.receive(read(d, m))));
    if (onUpdate) {
      offs.push(
        ch.bind(onUpdate, (d, m) => {
          const item = read(d, m);
          const list = queryClient.getQueryData<T[]>(JSON.parse(keyHash) as QueryKey) ?? [];
          if (list.some((it) => it.id === item.id)) {
            queryClient.setQueryData<T[]>(JSON.parse(keyHash) as QueryKey, list.map((it) => (it.id === item.id ? item : it)));
          }
        }),
      );
    }
    if (onDelete) offs.push(ch.bind(onDelete, (d, m) => ops.remove(read(d, m).id)));
    return () => {
      offs.forEach((off) => off());
      releaseChannel(client, channel);
    };
  }, [client, queryClient, channel, keyHash, onAdd, onUpdate, onDelete, ops, latestEvents]);
}
