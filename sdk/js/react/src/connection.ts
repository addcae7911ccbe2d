import type { ConnectionState } from '@herald/client';
import { useCallback, useSyncExternalStore } from 'react';

import { useHerald } from './context.js';

/** The connection's state, re-rendering on every change. */
export function useConnectionState(): ConnectionState {
  const client = useHerald();
  const subscribe = useCallback((onChange: () => void) => client.connection.on('change', onChange), [client]);
  const get = () => client.connection.state;
  return useSyncExternalStore(subscribe, get, get);
}
