// The admin API client: a fetch wrapper that sends the admin token as a
// bearer token and turns the API's error shape
// ({"error":{"code","message","field"}}) into an ApiError. The token lives
// in sessionStorage only: never in a URL, a cookie or a log.

/** The admin API's root, on the console's own origin. */
export const ADMIN_BASE = '/admin/v1';

const TOKEN_KEY = 'herald.console.adminToken';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer of the API that is not a success, or no answer at all. */
export class ApiError extends Error {
  /** The HTTP status; 0 when the request did not reach the server. */
  readonly status: number;
  /** The API's error code (e.g. invalid_argument, not_found). */
  readonly code: string;
  /** The input at fault, when the API names one (e.g. settings.max_connections). */
  readonly field?: string;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Listeners told when the API refuses the token (401), to sign out. */
const unauthorizedListeners = new Set<() => void>();

export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export interface RequestOptions {
  /** A JSON body. */
  body?: unknown;
  /** Query parameters; undefined and empty values are left out. */
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Accept header (default application/json). */
  accept?: string;
  /** The token to use instead of the stored one (sign-in). */
  token?: string;
  signal?: AbortSignal;
}

/** The URL of an admin API path with a query. */
export function apiURL(path: string, query?: RequestOptions['query']): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return ADMIN_BASE + path + (s ? `?${s}` : '');
}

/** Sends a request and returns the raw Response when it succeeded. */
export async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  const token = opts.token ?? getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(apiURL(path, opts.query), { method, headers, body, signal: opts.signal, credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'unavailable', 'the server cannot be reached');
  }
  if (res.ok) return res;
  const err = await errorOf(res);
  if (res.status === 401 && opts.token === undefined) {
    for (const fn of unauthorizedListeners) fn();
  }
  throw err;
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const b = (await res.json()) as { error?: { code?: string; message?: string; field?: string } };
    if (b && b.error && typeof b.error.message === 'string') {
      return new ApiError(res.status, b.error.code ?? 'unknown', b.error.message, b.error.field || undefined);
    }
  } catch {
    // Not JSON: a proxy's page, for instance.
  }
  return new ApiError(res.status, 'unknown', `${res.status} ${res.statusText}`.trim());
}

/** Sends a request and decodes its JSON answer (undefined for 204). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => request<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} });
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
export const del = (path: string) => request<void>('DELETE', path);

/** The envelope of every list answer. */
export interface ListPage<T> {
  items: T[];
  next_cursor: string | null;
}

/** Encodes one path segment (an id typed by a user may hold anything). */
export const seg = (s: string) => encodeURIComponent(s);
