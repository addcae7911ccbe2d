import { HttpError } from './errors.js';
import { parseData } from './frames.js';

/** A page request of `GET /apps/{id}/channels/{name}/messages`. */
export interface HistoryOptions {
  /** 1–1000 (server default 100). */
  limit?: number;
  /** `backwards` (newest first, the default) or `forwards`. */
  direction?: 'backwards' | 'forwards';
  /** The previous page's `next`. */
  cursor?: string;
  /** A serial the page starts after, in its direction. */
  fromSerial?: number;
  /** Unix ms bounds on when messages were published, both inclusive. */
  start?: number;
  end?: number;
}

/** One stored message. */
export interface HistoryItem {
  serial: number;
  event: string;
  /** Parsed as JSON where it is JSON. */
  data: unknown;
  /** The data exactly as published. @internal */
  rawData: string;
  publishedAt: number;
  userId?: string;
}

export interface HistoryPage {
  items: HistoryItem[];
  /** The cursor of the next page, null on the last. */
  next: string | null;
}

interface WireItem {
  serial: number;
  event: string;
  data: string;
  published_at_ms: number;
  user_id?: string;
}

/** Reads a history page with a Bearer token. */
export async function fetchHistory(
  fetchFn: typeof fetch,
  baseUrl: string,
  appId: string,
  token: string,
  channel: string,
  opts: HistoryOptions,
): Promise<HistoryPage> {
  const q = new URLSearchParams();
  const params: Array<[string, unknown]> = [
    ['limit', opts.limit],
    ['direction', opts.direction],
    ['cursor', opts.cursor],
    ['from_serial', opts.fromSerial],
    ['start', opts.start],
    ['end', opts.end],
  ];
  for (const [k, v] of params) if (v !== undefined) q.set(k, String(v));
  const url = `${baseUrl}/apps/${encodeURIComponent(appId)}/channels/${encodeURIComponent(channel)}/messages?${q}`;
  const res = await fetchFn(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as {
    items?: WireItem[];
    next?: string | null;
    error?: { code?: string; message?: string };
  };
  if (!res.ok) {
    throw new HttpError(res.status, body.error?.code ?? 'http_error', body.error?.message ?? `history answered ${res.status}`);
  }
  return {
    items: (body.items ?? []).map((it) => {
      const item: HistoryItem = {
        serial: it.serial,
        event: it.event,
        data: parseData(it.data),
        rawData: it.data,
        publishedAt: it.published_at_ms,
      };
      if (it.user_id !== undefined) item.userId = it.user_id;
      return item;
    }),
    next: body.next ?? null,
  };
}
