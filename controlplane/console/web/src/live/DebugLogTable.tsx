import { Component, type ComponentChildren, Fragment } from 'preact';

import { fmtBytes } from '../format';
import { ConfirmButton } from '../ui/ConfirmButton';
import { type DebugEvent, fmtClock, labelOf, type LogRow, prettyData, toneOf } from './debugEvents';

interface Props {
  /** The rows to show, newest first. */
  rows: LogRow[];
  expanded: ReadonlySet<number>;
  onToggle: (id: number) => void;
  onTerminate: (userId: string) => Promise<void>;
  /** Shown when there are no rows. */
  empty: ComponentChildren;
}

const COLUMNS = ['Time (UTC)', 'Type', 'Socket', 'Channel', 'Event', 'Serial', 'Size', 'Details', 'Actions'];

/** The live log: one row per event; a click or Enter on a row shows all of it. */
export function DebugLogTable({ rows, expanded, onToggle, onTerminate, empty }: Props) {
  return (
    <div class="table-wrap live-log-wrap">
      <table class="live-log" data-testid="debug-log">
        <caption class="visually-hidden">Debug events, newest first</caption>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th scope="col" key={c} class={c === 'Serial' || c === 'Size' ? 'num' : undefined}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        {rows.length === 0 ? (
          <tbody>
            <tr>
              <td class="empty" colSpan={COLUMNS.length}>
                {empty}
              </td>
            </tr>
          </tbody>
        ) : (
          rows.map((r) => <LogEntry key={r.id} row={r} open={expanded.has(r.id)} onToggle={onToggle} onTerminate={onTerminate} />)
        )}
      </table>
    </div>
  );
}

interface EntryProps {
  row: LogRow;
  open: boolean;
  onToggle: (id: number) => void;
  onTerminate: (userId: string) => Promise<void>;
}

/**
 * One event: its row and, when open, its details. A class with
 * shouldComponentUpdate so that adding rows re-renders only the new ones.
 */
class LogEntry extends Component<EntryProps> {
  shouldComponentUpdate(next: EntryProps) {
    return next.row !== this.props.row || next.open !== this.props.open;
  }

  render({ row, open, onToggle, onTerminate }: EntryProps) {
    const ev = row.ev;
    const toggle = () => onToggle(row.id);
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.target !== e.currentTarget) return; // a key on the row's buttons
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        toggle();
      }
    };
    return (
      <tbody class={open ? 'entry open' : 'entry'} data-type={ev.type}>
        <tr tabIndex={0} aria-expanded={open ? 'true' : 'false'} onClick={toggle} onKeyDown={onKeyDown} data-testid="debug-row" data-type={ev.type} data-socket={ev.socket_id} data-channel={ev.channel} data-serial={ev.serial}>
          <td class="mono nowrap">{fmtClock(ev.time)}</td>
          <td>
            <span class={`badge kind-${toneOf(ev.type)}`}>{labelOf(ev.type)}</span>
          </td>
          <td class="mono nowrap">{ev.socket_id ?? ''}</td>
          <td class="mono wrap" data-testid="row-channel">{ev.channel ?? ''}</td>
          <td class="mono wrap" data-testid="row-event">{ev.event ?? ''}</td>
          <td class="num mono" data-testid="row-serial">{ev.serial ?? ''}</td>
          <td class="num nowrap">{ev.size !== undefined ? fmtBytes(ev.size) : ''}</td>
          <td class="details" data-testid="row-details">
            <Summary ev={ev} />
          </td>
          <td class="nowrap" onClick={(e) => e.stopPropagation()}>
            {ev.user_id && (
              <ConfirmButton question={`Close every connection of user ${ev.user_id}?`} confirmLabel="Terminate" onConfirm={() => onTerminate(ev.user_id!)} testId="terminate">
                Terminate connections
              </ConfirmButton>
            )}
          </td>
        </tr>
        {open && (
          <tr class="entry-details">
            <td colSpan={COLUMNS.length}>
              <Details ev={ev} />
            </td>
          </tr>
        )}
      </tbody>
    );
  }
}

/** The short text of the details column. */
function Summary({ ev }: { ev: DebugEvent }) {
  const parts: ComponentChildren[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    parts.push(
      <span class="kv-pair" key={label}>
        <span class="k">{label}</span> {String(value)}
      </span>,
    );
  };
  if (ev.type === 'dropped') add('dropped', `${ev.count ?? 0} events`);
  add('transport', ev.transport);
  add('from', ev.remote_addr);
  add('user', ev.user_id);
  if (ev.code !== undefined || ev.message) add(ev.type === 'disconnected' ? 'close' : 'error', [ev.code, ev.message].filter((x) => x !== undefined && x !== '').join(' '));
  if (ev.webhook) {
    const w = ev.webhook;
    add('delivery', w.status);
    add('HTTP', w.status_code || 'no answer');
    add('attempts', w.attempts);
    add('events', w.events?.join(', '));
    add('error', w.error);
  }
  return (
    <>
      {parts}
      {ev.preview !== undefined && (
        <span class="preview">
          <code>{ev.preview}</code>
          {ev.truncated && <span class="badge warn" title="The preview is cut at 256 bytes; size is the whole payload's">truncated</span>}
        </span>
      )}
    </>
  );
}

/** Every field of an event, and its payload preview in full. */
function Details({ ev }: { ev: DebugEvent }) {
  const fields = Object.entries(ev).filter(([k, v]) => k !== 'preview' && k !== 'webhook' && v !== undefined && v !== '');
  return (
    <div class="event-details" data-testid="row-expanded">
      <dl class="kv">
        {fields.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{k === 'time' ? `${new Date(Number(v)).toISOString()} (${String(v)})` : String(v)}</dd>
          </Fragment>
        ))}
        {ev.webhook &&
          Object.entries(ev.webhook).map(([k, v]) => (
            <Fragment key={k}>
              <dt>webhook.{k}</dt>
              <dd>{Array.isArray(v) ? v.join(', ') : String(v)}</dd>
            </Fragment>
          ))}
      </dl>
      {ev.preview !== undefined && (
        <>
          <h3>Payload{ev.truncated ? ' (first 256 bytes)' : ''}</h3>
          <pre class="payload">{prettyData(ev.preview)}</pre>
        </>
      )}
    </div>
  );
}
