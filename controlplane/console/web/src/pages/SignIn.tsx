import { useState } from 'preact/hooks';

import { request, setToken } from '../api';
import { useTitle } from '../hooks';
import { ErrorBox } from '../ui/ErrorBox';

/**
 * Asks for the admin token and checks it with one cheap request before
 * keeping it (in sessionStorage: gone when the tab closes).
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string }) {
  useTitle('Sign in');
  const [token, setTok] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(undefined);
    try {
      // The token typed, not a stored one; a 401 here is the answer to
      // show, not a reason to sign out.
      await request('GET', '/accounts', { query: { limit: 1 }, token: t });
      setToken(t);
      onSignedIn(t);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit} data-testid="signin-form">
        <h1>
          <span class="logo" aria-hidden="true" /> Herald console
        </h1>
        <p class="muted">
          Sign in with an admin token: <code>herald dev</code> prints one in its banner, <code>herald admin tokens create</code> makes more.
        </p>
        {notice && !error && <p class="alert info">{notice}</p>}
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setTok(e.currentTarget.value)}
          data-testid="token"
        />
        <ErrorBox error={error} />
        <button type="submit" class="btn primary wide" disabled={busy} data-testid="sign-in">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="muted small">The token stays in this tab only (sessionStorage) and is sent as a bearer token to the admin API.</p>
      </form>
    </main>
  );
}
