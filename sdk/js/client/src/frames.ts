/**
 * The `reason` of the `pusher:error` before the end of a connection the
 * app terminated (`terminate_connections`): final, unlike another 4009.
 */
export const TERMINATED_REASON = 'terminated';

/** A Pusher protocol frame as the server sends it. */
export interface Frame {
  event: string;
  channel?: string;
  /** Server frames carry data as a JSON-encoded string (Pusher's double encoding). */
  data?: unknown;
  user_id?: string;
  /** Herald: the message's position in the message stream. */
  serial?: number;
}

/** Parses a frame, or undefined when it is not a JSON object with an event. */
export function parseFrame(text: unknown): Frame | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const f = JSON.parse(text) as Frame;
    return f && typeof f === 'object' && typeof f.event === 'string' ? f : undefined;
  } catch {
    return undefined;
  }
}

/** Event data as JSON when it is JSON, else the string as it came. */
export function parseData(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** Internal frames' data, always an object encoded as a string. */
export function dataObject<T>(data: unknown): Partial<T> {
  const v = parseData(data);
  return v && typeof v === 'object' ? (v as Partial<T>) : {};
}
