import type { ChannelState, Member, PresenceChannel } from '@herald/client';
import { useEffect, useState } from 'react';

import { useChannelState, useSubscription } from './channel.js';

/** Who is on a presence channel. */
export interface PresenceState<Info> {
  /** The members, in the order they were first seen. */
  members: Array<Member<Info>>;
  /** This connection's member, once subscribed. */
  me: Member<Info> | undefined;
  state: ChannelState | undefined;
}

function snapshot<Info>(ch: PresenceChannel<never, Info> | undefined): Omit<PresenceState<Info>, 'state'> {
  if (!ch) return { members: [], me: undefined };
  return { members: [...ch.members].map(([id, info]) => ({ id, info })), me: ch.me };
}

/**
 * Joins a presence channel (shared with the other hooks on it) and
 * returns its members, updated on each join and leave. A quick
 * reconnection shows no one leaving (see PresenceChannel).
 */
export function usePresence<Info = unknown>(name: `presence-${string}` | null): PresenceState<Info> {
  const channel = useSubscription(name) as PresenceChannel<never, Info> | undefined;
  const state = useChannelState(channel);
  const [value, setValue] = useState(() => snapshot(channel));
  useEffect(() => {
    const update = () => setValue(snapshot(channel));
    update();
    if (!channel) return;
    const offs = [channel.onMember('member_added', update), channel.onMember('member_removed', update), channel.on('subscribed', update)];
    return () => offs.forEach((off) => off());
  }, [channel]);
  return { ...value, state };
}
