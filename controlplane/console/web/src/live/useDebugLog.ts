// The debug console's state: the app's debug stream read while the tab is
// open, its events kept in a capped log, added in batches once per
// animation frame (at hundreds of events a second the page renders at most
// once a frame, not once an event), paused and resumed, and counted.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { seg } from '../api';
import { type DebugEvent, type LogRow, parseDebugEvent, searchText } from './debugEvents';
import { readStream, type StreamState } from './sse';

/** The most events the log keeps; older ones are discarded (and counted). */
export const MAX_LOG_ROWS = 2000;

export interface DebugLog {
  state: StreamState;
  /** Why the stream last ended, until it is live again. */
  error?: Error;
  /** When the next reconnect is due (Date.now() milliseconds). */
  retryAt?: number;
  /** The log, oldest first; a new array whenever it changed. */
  rows: LogRow[];
  paused: boolean;
  /** Events that arrived while paused, shown on resume. */
  held: number;
  /** The sum of the server's dropped events: what the stream's cap refused. */
  dropped: number;
  /** Events this page discarded to keep at most MAX_LOG_ROWS. */
  discarded: number;
  /** Events received since the page opened (ready excluded). */
  received: number;
  pause: () => void;
  resume: () => void;
  clear: () => void;
}

interface Counters {
  dropped: number;
  discarded: number;
  received: number;
}

/**
 * Appends row to a queue, discarding (and counting) its oldest beyond the
 * cap: a hidden tab runs no animation frames, and a paused log waits.
 */
function keep(q: LogRow[], row: LogRow, c: Counters): void {
  q.push(row);
  if (q.length > MAX_LOG_ROWS) {
    q.shift();
    c.discarded++;
  }
}

/** Reads the debug stream of appId while mounted. */
export function useDebugLog(appId: string): DebugLog {
  const [stream, setStream] = useState<{ state: StreamState; error?: Error; retryAt?: number }>({ state: 'connecting' });
  const [rows, setRows] = useState<LogRow[]>([]);
  const [paused, setPaused] = useState(false);
  const [, setTick] = useState(0);
  const rowsRef = useRef<LogRow[]>([]);
  const pending = useRef<LogRow[]>([]);
  const held = useRef<LogRow[]>([]);
  const pausedRef = useRef(false);
  const counters = useRef<Counters>({ dropped: 0, discarded: 0, received: 0 });
  const frame = useRef(0);
  const nextId = useRef(1);

  const flush = useCallback(() => {
    frame.current = 0;
    if (pending.current.length > 0) {
      let next = rowsRef.current.concat(pending.current);
      pending.current = [];
      if (next.length > MAX_LOG_ROWS) {
        counters.current.discarded += next.length - MAX_LOG_ROWS;
        next = next.slice(next.length - MAX_LOG_ROWS);
      }
      rowsRef.current = next;
      setRows(next);
    }
    setTick((t) => t + 1); // counters and the held count
  }, []);

  const schedule = useCallback(() => {
    if (frame.current === 0) frame.current = requestAnimationFrame(flush);
  }, [flush]);

  useEffect(() => {
    const ac = new AbortController();
    rowsRef.current = [];
    pending.current = [];
    held.current = [];
    counters.current = { dropped: 0, discarded: 0, received: 0 };
    setRows([]);
    const onData = (data: string) => {
      const ev: DebugEvent | undefined = parseDebugEvent(data);
      if (!ev || ev.type === 'ready') return;
      counters.current.received++;
      if (ev.type === 'dropped') counters.current.dropped += ev.count ?? 0;
      const row: LogRow = { id: nextId.current++, ev, text: searchText(ev) };
      keep(pausedRef.current ? held.current : pending.current, row, counters.current);
      schedule();
    };
    void readStream(`/apps/${seg(appId)}/debug/events`, ac.signal, {
      onData,
      isReady: (d) => d.includes('"ready"') && parseDebugEvent(d)?.type === 'ready',
      onState: (state, error, retryIn) =>
        setStream((prev) => ({
          state,
          error: state === 'live' ? undefined : (error ?? prev.error),
          retryAt: retryIn === undefined ? undefined : Date.now() + retryIn,
        })),
    });
    return () => {
      ac.abort();
      if (frame.current) cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [appId, schedule]);

  const pause = useCallback(() => {
    pausedRef.current = true;
    setPaused(true);
  }, []);
  const resume = useCallback(() => {
    pausedRef.current = false;
    setPaused(false);
    for (const r of held.current) keep(pending.current, r, counters.current);
    held.current = [];
    schedule();
  }, [schedule]);
  const clear = useCallback(() => {
    rowsRef.current = [];
    pending.current = [];
    held.current = [];
    setRows([]);
  }, []);

  return {
    ...stream,
    rows,
    paused,
    held: held.current.length,
    dropped: counters.current.dropped,
    discarded: counters.current.discarded,
    received: counters.current.received,
    pause,
    resume,
    clear,
  };
}
