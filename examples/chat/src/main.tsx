import { Herald } from '@herald/client';
import { HeraldProvider } from '@herald/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App';

interface Config {
  url: string;
  key: string;
  appId: string;
}

const params = new URLSearchParams(location.search);
const user = params.get('user') ?? `guest-${Math.random().toString(36).slice(2, 7)}`;
const config = (await (await fetch('/config.json')).json()) as Config;

async function token(): Promise<string> {
  const res = await fetch('/realtime/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (!res.ok) throw new Error(`token: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

// One client for the page, made outside React: StrictMode's double render
// would otherwise make two. By default the backend signs a token for this
// user, whose capabilities let them join, talk in and read the history of
// the chat rooms; with ?auth=signature it signs each channel instead, the
// Pusher way (no history then: that needs a token).
const herald = new Herald({
  key: config.key,
  url: config.url,
  appId: config.appId,
  ...(params.get('auth') === 'signature'
    ? { authEndpoint: '/realtime/auth', headers: () => ({ 'x-chat-user': user }) }
    : { tokenProvider: token }),
});

// Live events keep the caches fresh: no refetching on focus or reconnect,
// which would also drop optimistic messages.
const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: Infinity, refetchOnWindowFocus: false, refetchOnReconnect: false, retry: 1 } },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <HeraldProvider client={herald}>
        <App user={user} initialRoom={params.get('room') ?? 'general'} />
      </HeraldProvider>
    </QueryClientProvider>
  </StrictMode>,
);
