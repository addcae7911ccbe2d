import { AuthError } from './errors.js';

/** What a channel authorization answers (Pusher's format). */
export interface ChannelAuth {
  auth: string;
  channel_data?: string;
  /** private-encrypted channels: the channel's key, base64. */
  shared_secret?: string;
}

/** What a user authentication answers, for `pusher:signin`. */
export interface UserAuth {
  auth: string;
  user_data: string;
}

/** Headers for auth requests, fetched anew for each one. */
export type HeadersProvider = () => Record<string, string> | Promise<Record<string, string>>;

/**
 * POSTs `socket_id` and the given fields form-encoded to endpoint, as
 * pusher-js does, so existing backends answer unchanged.
 */
export async function postAuth<T>(
  fetchFn: typeof fetch,
  endpoint: string,
  fields: Record<string, string>,
  headers: HeadersProvider | undefined,
): Promise<T> {
  const extra = headers ? await headers() : {};
  let res: Response;
  try {
    res = await fetchFn(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
      body: new URLSearchParams(fields).toString(),
    });
  } catch (err) {
    throw new AuthError(`auth endpoint unreachable: ${(err as Error).message}`);
  }
  if (!res.ok) throw new AuthError(`auth endpoint answered ${res.status}`, res.status);
  try {
    return (await res.json()) as T;
  } catch {
    throw new AuthError('auth endpoint answered something other than JSON', res.status);
  }
}
