import { Typing, type TypingOptions } from '@herald/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { useSubscription } from './channel.js';

export interface TypingState {
  /** The remote users typing now (never this user). */
  users: string[];
  /** Call on each keystroke: a start at most every throttleMs, a stop after idleMs. */
  typing: () => void;
  /** Call when the message is sent or the field cleared. */
  stop: () => void;
}

/**
 * A typing indicator on a private or presence channel (see Typing). The
 * channel is shared with the other hooks on it; the indicator's timers end
 * on unmount, with a stop sent if this user was typing.
 */
export function useTyping(name: string | null, opts: TypingOptions = {}): TypingState {
  const channel = useSubscription(name);
  const [users, setUsers] = useState<string[]>([]);
  const typingRef = useRef<Typing>(undefined);
  const { event, throttleMs, idleMs, expireMs, userId } = opts;
  const settings = useMemo(() => ({ event, throttleMs, idleMs, expireMs, userId }), [event, throttleMs, idleMs, expireMs, userId]);
  useEffect(() => {
    if (!channel) return;
    const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as TypingOptions;
    const t = new Typing(channel, defined);
    typingRef.current = t;
    setUsers(t.users);
    const off = t.on('change', (u) => setUsers(u));
    return () => {
      off();
      t.dispose();
      if (typingRef.current === t) typingRef.current = undefined;
      setUsers([]);
    };
  }, [channel, settings]);
  const typing = useCallback(() => typingRef.current?.typing(), []);
  const stop = useCallback(() => typingRef.current?.stop(), []);
  return { users, typing, stop };
}
