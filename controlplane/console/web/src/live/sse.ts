// Server-Sent Events read with fetch and a ReadableStream (EventSource
// cannot send the Authorization header the admin API needs): a parser of
// the text/event-stream format, and a reader that reconnects with back-off.

import { ApiError, send } from '../api';

/**
 * Parses text/event-stream incrementally: feed it chunks of text as they
 * arrive; it calls onData with each event's data (its data lines joined
 * with newlines) when the blank line that ends the event arrives. Comment
 * lines (": keepalive") and the event, id and retry fields are ignored;
 * lines may end with CRLF, LF or CR, also split across chunks.
 */
export class SSEParser {
  private buf = '';
  private data: string[] = [];
  /** A chunk ended with CR: an LF starting the next one belongs to it. */
  private pendingCR = false;

  constructor(private readonly onData: (data: string) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buf += text;
    let start = 0;
    for (;;) {
      const cr = this.buf.indexOf('\r', start);
      const lf = this.buf.indexOf('\n', start);
      let end: number;
      if (cr < 0 && lf < 0) break;
      if (cr < 0 || (lf >= 0 && lf < cr)) end = lf;
      else end = cr;
      const line = this.buf.slice(start, end);
      if (this.buf[end] === '\r') {
        if (end + 1 >= this.buf.length) {
          this.pendingCR = true;
          start = end + 1;
        } else start = this.buf[end + 1] === '\n' ? end + 2 : end + 1;
      } else start = end + 1;
      this.line(line);
    }
    this.buf = this.buf.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        const d = this.data.join('\n');
        this.data = [];
        this.onData(d);
      }
      return;
    }
    if (line.startsWith(':')) return; // a comment: keepalive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}

/** Where a stream is. */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** The first wait before a reconnect; doubled after each failure. */
export const RECONNECT_MIN_MS = 500;
/** The longest wait between reconnects. */
export const RECONNECT_MAX_MS = 10_000;

export interface StreamHandlers {
  /** Each event's data, as text. */
  onData: (data: string) => void;
  /**
   * The state changed; error says why a stream ended (reconnecting or
   * stopped); retryInMs is the wait before the next attempt.
   */
  onState: (state: StreamState, error?: Error, retryInMs?: number) => void;
  /** Whether data tells the stream is live (the server's ready event). */
  isReady: (data: string) => boolean;
}

/**
 * Reads an admin API SSE path until signal aborts, reconnecting after any
 * end or error with an exponential back-off (reset by every ready event).
 * A 401 (the token is no longer accepted: the console signs out) and a 404
 * (the app is gone) stop it.
 */
export async function readStream(path: string, signal: AbortSignal, h: StreamHandlers): Promise<void> {
  let wait = RECONNECT_MIN_MS;
  let first = true;
  while (!signal.aborted) {
    h.onState(first ? 'connecting' : 'reconnecting');
    first = false;
    let err: Error;
    try {
      const res = await send('GET', path, { accept: 'text/event-stream', signal });
      if (!res.body) throw new Error('the browser gives no stream body');
      const parser = new SSEParser((d) => {
        if (h.isReady(d)) {
          wait = RECONNECT_MIN_MS;
          h.onState('live');
        }
        h.onData(d);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
      err = new Error('the stream ended');
    } catch (e) {
      if (signal.aborted) return;
      err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
        h.onState('stopped', err);
        return;
      }
    }
    if (signal.aborted) return;
    h.onState('reconnecting', err, wait);
    await sleep(wait, signal);
    wait = Math.min(wait * 2, RECONNECT_MAX_MS);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
