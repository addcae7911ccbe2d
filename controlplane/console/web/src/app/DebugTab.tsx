import '../live/live.css';

import { useCallback, useMemo, useState } from 'preact/hooks';

import { post, seg } from '../api';
import { fmtNumber } from '../format';
import { debugKinds, type LogRow } from '../live/debugEvents';
import { DebugLogTable } from '../live/DebugLogTable';
import { EventCreator } from '../live/EventCreator';
import { StreamStatus } from '../live/StreamStatus';
import { MAX_LOG_ROWS, useDebugLog } from '../live/useDebugLog';
import { ErrorBox } from '../ui/ErrorBox';
import type { AppTabProps } from './tabs';

interface Filters {
  /** Types not shown. */
  hidden: ReadonlySet<string>;
  channel: string;
  event: string;
  text: string;
}

const noFilters: Filters = { hidden: new Set(), channel: '', event: '', text: '' };

function matches(r: LogRow, f: Filters, channel: string, event: string, text: string): boolean {
  if (f.hidden.has(r.ev.type)) return false;
  if (channel && !(r.ev.channel ?? '').toLowerCase().includes(channel)) return false;
  if (event && !(r.ev.event ?? '').toLowerCase().includes(event)) return false;
  if (text && !r.text.includes(text)) return false;
  return true;
}

/**
 * The app's live debug console: every connection, subscription, message
 * and webhook delivery as it happens, filtered, paused, expanded; an
 * event creator; a user's connections terminated from the log.
 */
export function DebugTab({ app }: AppTabProps) {
  const log = useDebugLog(app.id);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const shown = useMemo(() => {
    const ch = filters.channel.trim().toLowerCase();
    const ev = filters.event.trim().toLowerCase();
    const tx = filters.text.trim().toLowerCase();
    const out: LogRow[] = [];
    for (let i = log.rows.length - 1; i >= 0; i--) {
      if (matches(log.rows[i], filters, ch, ev, tx)) out.push(log.rows[i]);
    }
    return out;
  }, [log.rows, filters]);

  const toggle = useCallback((id: number) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);

  const terminate = useCallback(
    async (userId: string) => {
      setNotice(undefined);
      setError(undefined);
      try {
        await post(`/apps/${seg(app.id)}/users/${seg(userId)}/terminate_connections`);
        setNotice(`The connections of user ${userId} are being closed.`);
      } catch (err) {
        setError(err);
      }
    },
    [app.id],
  );

  const setType = (type: string, show: boolean) => {
    const hidden = new Set(filters.hidden);
    if (show) hidden.delete(type);
    else hidden.add(type);
    setFilters({ ...filters, hidden });
  };
  const filtered = filters.hidden.size > 0 || filters.channel || filters.event || filters.text;

  return (
    <div class="stack debug-tab" data-testid="debug-tab" data-app={app.id}>
      <EventCreator appId={app.id} />
      <section class="card live-card" aria-label="Live log">
        <div class="live-head">
          <h2>Live log</h2>
          <StreamStatus state={log.state} error={log.error} retryAt={log.retryAt} />
          <span class="spacer" />
          {log.paused ? (
            <button type="button" class="btn primary" onClick={log.resume} data-testid="resume">
              Resume{log.held > 0 ? ` (${fmtNumber(log.held)} new)` : ''}
            </button>
          ) : (
            <button type="button" class="btn" onClick={log.pause} data-testid="pause">
              Pause
            </button>
          )}
          <button type="button" class="btn" onClick={() => { log.clear(); setExpanded(new Set()); }} data-testid="clear">
            Clear
          </button>
        </div>
        <p class="counters muted small" data-testid="counters" aria-live="off">
          Showing <strong data-testid="shown-count">{fmtNumber(shown.length)}</strong> of {fmtNumber(log.rows.length)} kept (at most {fmtNumber(MAX_LOG_ROWS)}) · received {fmtNumber(log.received)} · dropped by the server{' '}
          <strong data-testid="dropped-count">{fmtNumber(log.dropped)}</strong> · discarded over the cap <strong data-testid="discarded-count">{fmtNumber(log.discarded)}</strong>
          {log.paused && (
            <>
              {' '}
              · <span data-testid="held-count">{fmtNumber(log.held)}</span> held while paused
            </>
          )}
        </p>
        <fieldset class="type-filter">
          <legend>Types</legend>
          {debugKinds.map((k) => {
            const on = !filters.hidden.has(k.type);
            return (
              <button type="button" key={k.type} class={`chip kind-${k.tone}${on ? ' on' : ''}`} aria-pressed={on ? 'true' : 'false'} onClick={() => setType(k.type, !on)} data-testid={`type-${k.type}`}>
                {k.label}
              </button>
            );
          })}
          <button type="button" class="btn small link" onClick={() => setFilters({ ...filters, hidden: new Set() })} data-testid="types-all">
            All
          </button>
          <button type="button" class="btn small link" onClick={() => setFilters({ ...filters, hidden: new Set(debugKinds.map((k) => k.type)) })} data-testid="types-none">
            None
          </button>
        </fieldset>
        <div class="filter-row">
          <label>
            Channel <input value={filters.channel} onInput={(e) => setFilters({ ...filters, channel: e.currentTarget.value })} data-testid="filter-channel" placeholder="contains…" />
          </label>
          <label>
            Event <input value={filters.event} onInput={(e) => setFilters({ ...filters, event: e.currentTarget.value })} data-testid="filter-event" placeholder="contains…" />
          </label>
          <label class="grow">
            Search <input type="search" value={filters.text} onInput={(e) => setFilters({ ...filters, text: e.currentTarget.value })} data-testid="filter-text" placeholder="any field: socket id, user, payload…" />
          </label>
          {filtered && (
            <button type="button" class="btn small" onClick={() => setFilters(noFilters)} data-testid="filters-reset">
              Reset filters
            </button>
          )}
        </div>
        {notice && (
          <div class="alert info" role="status" data-testid="terminate-result">
            {notice}
          </div>
        )}
        <ErrorBox error={error} />
        <DebugLogTable
          rows={shown}
          expanded={expanded}
          onToggle={toggle}
          onTerminate={terminate}
          empty={log.rows.length > 0 ? 'No event matches the filters.' : log.state === 'live' ? 'Waiting for events: connect a client or publish one.' : 'Connecting to the debug stream…'}
        />
      </section>
    </div>
  );
}
