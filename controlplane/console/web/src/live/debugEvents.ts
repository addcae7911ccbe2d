// The debug stream's events (channels.DebugEvent, docs/console.md "Debug
// stream") as the console keeps them: each with a local id for keys and a
// lower-cased text of every field for the free-text filter.

export interface DebugDelivery {
  endpoint_id: string;
  delivery_id: string;
  status: string;
  status_code: number;
  attempts: number;
  events?: string[];
  error?: string;
}

export interface DebugEvent {
  type: string;
  time: number;
  gateway?: string;
  socket_id?: string;
  transport?: string;
  remote_addr?: string;
  user_id?: string;
  channel?: string;
  event?: string;
  serial?: number;
  size?: number;
  preview?: string;
  truncated?: boolean;
  code?: number;
  message?: string;
  count?: number;
  webhook?: DebugDelivery;
}

/** An event in the log. */
export interface LogRow {
  /** Unique in this page, increasing. */
  id: number;
  ev: DebugEvent;
  /** Every field's text, lower-cased, for the free-text filter. */
  text: string;
}

/** The kinds a log shows, in the order of the type filter, with their badge colour class. */
export const debugKinds: { type: string; label: string; tone: string }[] = [
  { type: 'connected', label: 'connected', tone: 'conn' },
  { type: 'disconnected', label: 'disconnected', tone: 'disc' },
  { type: 'signed_in', label: 'signed in', tone: 'conn' },
  { type: 'subscribed', label: 'subscribed', tone: 'sub' },
  { type: 'unsubscribed', label: 'unsubscribed', tone: 'unsub' },
  { type: 'subscription_error', label: 'subscription error', tone: 'err' },
  { type: 'client_error', label: 'client error', tone: 'err' },
  { type: 'channel_occupied', label: 'occupied', tone: 'occ' },
  { type: 'channel_vacated', label: 'vacated', tone: 'vac' },
  { type: 'member_added', label: 'member added', tone: 'member' },
  { type: 'member_removed', label: 'member removed', tone: 'vac' },
  { type: 'api_message', label: 'API message', tone: 'msg' },
  { type: 'client_event', label: 'client event', tone: 'msg' },
  { type: 'acked_publish', label: 'acked publish', tone: 'msg' },
  { type: 'webhook', label: 'webhook', tone: 'hook' },
  { type: 'dropped', label: 'dropped', tone: 'err' },
];

const kindByType = new Map(debugKinds.map((k) => [k.type, k]));

/** The badge tone of a type ('other' for a type this console does not know). */
export const toneOf = (type: string) => kindByType.get(type)?.tone ?? 'other';
export const labelOf = (type: string) => kindByType.get(type)?.label ?? type;

/** Parses one data line of the stream; undefined for what is not an event. */
export function parseDebugEvent(data: string): DebugEvent | undefined {
  try {
    const v = JSON.parse(data) as unknown;
    if (v && typeof v === 'object' && typeof (v as DebugEvent).type === 'string') return v as DebugEvent;
  } catch {
    // Not JSON: ignored, as a newer server's extension would be.
  }
  return undefined;
}

/** The text the free-text filter searches: every field's value. */
export function searchText(ev: DebugEvent): string {
  const parts: string[] = [];
  for (const v of Object.values(ev)) {
    if (v === undefined || v === null) continue;
    parts.push(typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return parts.join('\u0000').toLowerCase();
}

/** The time of an event: HH:MM:SS.mmm UTC. */
export function fmtClock(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().slice(11, 23);
}

/** A payload's text, indented when it is JSON. */
export function prettyData(s: string): string {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return s;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return s;
  }
}
