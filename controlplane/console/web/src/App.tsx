import { useEffect, useState } from 'preact/hooks';

import { clearToken, getToken, onUnauthorized } from './api';
import { Shell } from './Shell';
import { SignIn } from './pages/SignIn';

/** Signed in or not: the token in sessionStorage decides. */
export function App() {
  const [token, setTokenState] = useState(getToken());
  const [notice, setNotice] = useState<string | undefined>(undefined);
  useEffect(
    () =>
      onUnauthorized(() => {
        clearToken();
        setTokenState(null);
        setNotice('The admin token was refused; sign in again.');
      }),
    [],
  );
  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          setNotice(undefined);
          setTokenState(t);
        }}
      />
    );
  }
  return (
    <Shell
      onSignOut={() => {
        clearToken();
        setTokenState(null);
        setNotice('Signed out.');
      }}
    />
  );
}
