import type { Channel, ChannelState, MessageMeta, SubscribeOptions } from '@herald/client';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';

import { useHerald } from './context.js';
import { acquireChannel, releaseChannel } from './registry.js';

/** Runs on the client before paint, on the server never (no warning there). */
export const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/** A ref that always holds the latest value, so effects need not depend on it. */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * Holds a shared subscription to `name` while the component is mounted
 * and returns the channel (undefined before the first effect ran, or when
 * name is null).
 */
export function useSubscription(name: string | null, opts?: SubscribeOptions): Channel | undefined {
  const client = useHerald();
  const [channel, setChannel] = useState<Channel>();
  const rewind = opts?.rewind;
  useEffect(() => {
    if (name === null) {
      setChannel(undefined);
      return;
    }
    setChannel(acquireChannel(client, name, rewind === undefined ? {} : { rewind }));
    return () => releaseChannel(client, name);
  }, [client, name, rewind]);
  return channel;
}

/**
 * Subscribes to a channel and calls handler for each `event` on it. The
 * handler may be a new function on each render: the latest one is called,
 * and the channel is neither left nor joined again. Components using the
 * same channel share one subscription, left when the last unmounts.
 * Returns the channel's subscription state.
 */
export function useChannel<T = unknown>(
  name: string | null,
  event?: string,
  handler?: (data: T, meta: MessageMeta) => void,
  opts?: SubscribeOptions,
): ChannelState | undefined {
  const channel = useSubscription(name, opts);
  const latest = useLatest(handler);
  useEffect(() => {
    if (!channel || event === undefined) return;
    return channel.bind(event, (data, meta) => latest.current?.(data as T, meta));
  }, [channel, event, latest]);
  return useChannelState(channel);
}

/** A channel's subscription state, re-rendering on each change. */
export function useChannelState(channel: Channel | undefined): ChannelState | undefined {
  const subscribe = useCallback((onChange: () => void) => channel?.on('state', onChange) ?? (() => {}), [channel]);
  const get = () => channel?.state;
  return useSyncExternalStore(subscribe, get, get);
}
