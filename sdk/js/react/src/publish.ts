import { useCallback, useEffect, useRef, useState } from 'react';

import { useSubscription } from './channel.js';
import { useHerald } from './context.js';
import { newId } from './ids.js';

/** Where one message of usePublish stands. */
export type PublishStatus = 'pending' | 'sent' | 'failed';

export interface PublishEntry<T> {
  /** The publish id: the server de-duplicates resends with it. */
  id: string;
  data: T;
  status: PublishStatus;
  /** The stored message's serial, once sent. */
  serial?: number;
  /** Why it failed (PublishRejectedError, PublishTimeoutError, …). */
  error?: Error;
}

export interface PublishState<T> {
  /** This component's messages, oldest first, each with its status. */
  messages: Array<PublishEntry<T>>;
  /** Publishes data (acked); resolves with the entry once sent or failed, never rejects. */
  publish: (data: T, id?: string) => Promise<PublishEntry<T>>;
  /** Publishes a failed message again with the same id. */
  retry: (id: string) => Promise<PublishEntry<T>>;
  /** Forgets a message (e.g. a failed one the user gave up on). */
  dismiss: (id: string) => void;
}

/**
 * Acknowledged publishing of `event` on a channel (joined, and shared,
 * while mounted), with each message's state: `pending` until the server's
 * ack (it waits in the client's outbox while offline), then `sent` with
 * its serial, or `failed` on a nack or its deadline; `retry` sends it
 * again with the same id, so the server stores it once.
 */
export function usePublish<T = unknown>(name: string, event: string): PublishState<T> {
  const client = useHerald();
  useSubscription(name);
  const [messages, setMessages] = useState<Array<PublishEntry<T>>>([]);
  const list = useRef(messages);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const put = useCallback((entry: PublishEntry<T>) => {
    const next = list.current.some((m) => m.id === entry.id)
      ? list.current.map((m) => (m.id === entry.id ? entry : m))
      : [...list.current, entry];
    list.current = next;
    if (mounted.current) setMessages(next);
  }, []);

  const send = useCallback(
    async (data: T, id: string): Promise<PublishEntry<T>> => {
      put({ id, data, status: 'pending' });
      let entry: PublishEntry<T>;
      try {
        const { serial } = await client.publish(name, event, data, { id });
        entry = { id, data, status: 'sent', serial };
      } catch (err) {
        entry = { id, data, status: 'failed', error: err as Error };
      }
      put(entry);
      return entry;
    },
    [client, name, event, put],
  );

  const publish = useCallback((data: T, id: string = newId()) => send(data, id), [send]);
  const retry = useCallback(
    (id: string) => {
      const m = list.current.find((e) => e.id === id);
      if (!m) return Promise.reject(new Error(`no message ${id}`));
      return send(m.data, id);
    },
    [send],
  );
  const dismiss = useCallback((id: string) => {
    list.current = list.current.filter((m) => m.id !== id);
    if (mounted.current) setMessages(list.current);
  }, []);
  return { messages, publish, retry, dismiss };
}
