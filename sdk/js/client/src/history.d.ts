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
/** Reads a history page with a Bearer token. */
export declare function fetchHistory(fetchFn: typeof fetch, baseUrl: string, appId: string, token: string, channel: string, opts: HistoryOptions): Promise<HistoryPage>;
