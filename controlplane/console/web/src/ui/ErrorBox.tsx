import { ApiError } from '../api';

/** An error from the API (or the network), in a visible alert. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError && error.code !== 'unknown' ? error.code : undefined;
  return (
    <div class="alert error" role="alert" data-testid="error">
      {msg}
      {code && <span class="code"> ({code})</span>}
    </div>
  );
}
