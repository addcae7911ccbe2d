// A tiny hash router: the route lives in the URL's fragment
// (#/apps/<id>/<tab>), so the server serves one page and a reload or a
// shared link lands where it was. Parts are URI-decoded.

import { useEffect, useState } from 'preact/hooks';

export type Route = string[];

export function parseHash(hash: string): Route {
  const p = hash.replace(/^#\/?/, '').split('?')[0];
  return p
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** The href of a route, each part encoded. */
export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function navigate(...parts: string[]): void {
  location.hash = href(...parts);
}

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    // The hash may have changed between the first render and now.
    on();
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
