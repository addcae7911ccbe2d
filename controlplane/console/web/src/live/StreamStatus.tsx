import type { StreamState } from './sse';

const labels: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting',
  stopped: 'Stopped',
};

/** The debug stream's state as a pill, with the reason it is not live. */
export function StreamStatus({ state, error, retryAt }: { state: StreamState; error?: Error; retryAt?: number }) {
  const wait = retryAt ? Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) : 0;
  return (
    <span class="stream-status" role="status" data-testid="stream-status" data-state={state}>
      <span class={`dot ${state}`} aria-hidden="true" />
      {labels[state]}
      {state === 'reconnecting' && wait > 0 && ` in ${wait} s`}
      {error && state !== 'live' && <span class="muted"> ({error.message})</span>}
    </span>
  );
}
