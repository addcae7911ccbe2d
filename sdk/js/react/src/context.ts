import type { Herald } from '@herald/client';
import { type ReactNode, createContext, createElement, useContext } from 'react';

const HeraldContext = createContext<Herald | null>(null);

export interface HeraldProviderProps {
  /** The client the hooks below use. Make it once (outside render) and close it yourself. */
  client: Herald;
  children?: ReactNode;
}

/**
 * Gives the hooks below a Herald client. The provider never creates or
 * closes the client: a client made in render would be made twice under
 * StrictMode, and one closed on unmount would not survive a remount.
 */
export function HeraldProvider({ client, children }: HeraldProviderProps): ReactNode {
  return createElement(HeraldContext.Provider, { value: client }, children);
}

/** The client of the nearest HeraldProvider; throws outside one. */
export function useHerald(): Herald {
  const client = useContext(HeraldContext);
  if (!client) throw new Error('@herald/react: wrap your components in <HeraldProvider client={…}>');
  return client;
}
