import { useEffect, useState } from 'preact/hooks';

import type { StreamState } from './sse';

const labels: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting',
  stopped: 'Stopped',
};

/** How often the wait before a reconnect is counted down. */
const COUNTDOWN_MS = 1000;

/** The debug stream's state as a pill, with the reason it is not live and the wait before the next try. */
export function StreamStatus({ state, error, retryAt }: { state: StreamState; error?: Error; retryAt?: number }) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!retryAt) return undefined;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), COUNTDOWN_MS);
    return () => clearInterval(t);
  }, [retryAt]);
  const wait = retryAt ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : 0;
  return (
    <span class="stream-status" role="status" data-testid="stream-status" data-state={state}>
      <span class={`dot ${state}`} aria-hidden="true" />
      {labels[state]}
      {state === 'reconnecting' && wait > 0 && ` in ${wait} s`}
      {error && state !== 'live' && <span class="muted"> ({error.message})</span>}
    </span>
  );
}
