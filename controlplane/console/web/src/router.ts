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

/** The query part of a hash (#/apps?q=shop), after its route. */
function hashQuery(hash: string): { path: string; params: URLSearchParams } {
  const i = hash.indexOf('?');
  return i < 0 ? { path: hash, params: new URLSearchParams() } : { path: hash.slice(0, i), params: new URLSearchParams(hash.slice(i + 1)) };
}

/** A parameter of the hash's query: page state that a reload or a shared link keeps. */
export function hashParam(name: string): string {
  return hashQuery(location.hash).params.get(name) ?? '';
}

/**
 * Sets a parameter of the hash's query, or removes it when empty, in place:
 * no history entry for each keystroke, and no hashchange (the route is the
 * same).
 */
export function setHashParam(name: string, value: string): void {
  const { path, params } = hashQuery(location.hash);
  if ((params.get(name) ?? '') === value) return;
  if (value) params.set(name, value);
  else params.delete(name);
  const qs = params.toString();
  history.replaceState(history.state, '', (path || '#/') + (qs ? `?${qs}` : ''));
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
