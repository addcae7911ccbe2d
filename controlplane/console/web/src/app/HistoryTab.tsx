import '../live/live.css';

import { useState } from 'preact/hooks';

import { get, seg } from '../api';
import { fmtNumber } from '../format';
import { useLoad } from '../hooks';
import { fmtClock, prettyData } from '../live/debugEvents';
import { LiveTable } from '../live/LiveTable';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import type { AppTabProps } from './tabs';

/** Messages per page unless the form says otherwise. */
export const HISTORY_PAGE_SIZE = 50;
/** The API's largest page (controlplane.MaxHistoryLimit). */
const MAX_PAGE_SIZE = 1000;

interface HistoryItem {
  serial: number;
  event: string;
  data: string;
  published_at_ms: number;
  user_id?: string;
}

interface HistoryPage {
  items: HistoryItem[];
  next: string | null;
}

type Direction = 'backwards' | 'forwards';

/** What is being browsed: set by the form, so typing does not query. */
interface Query {
  channel: string;
  direction: Direction;
  /** As typed: the API names what is wrong with it. */
  limit: string;
}

/** A channel's message history, paged, newest or oldest first. */
export function HistoryTab({ app }: AppTabProps) {
  const [channel, setChannel] = useState('');
  const [direction, setDirection] = useState<Direction>('backwards');
  const [limit, setLimit] = useState(String(HISTORY_PAGE_SIZE));
  const [query, setQuery] = useState<Query | undefined>(undefined);
  /** Each submit shows new results, never the last query's while loading. */
  const [runs, setRuns] = useState(0);
  const pager = useCursor();
  const off = app.settings.history_retention_s === 0;
  const submit = (e: Event) => {
    e.preventDefault();
    pager.reset();
    setQuery({ channel: channel.trim(), direction, limit: limit.trim() });
    setRuns((n) => n + 1);
  };
  return (
    <div class="stack" data-testid="history-tab" data-app={app.id}>
      {off && (
        <div class="alert info" role="status" data-testid="history-off">
          History is off for this app (its <code>history_retention_s</code> setting is 0): no message is kept, so every channel's history is empty. Set a retention in the Settings tab to keep messages.
        </div>
      )}
      <form class="inline-form card" onSubmit={submit} aria-label="Channel history" noValidate>
        <label class="field grow-field">
          Channel
          <input value={channel} onInput={(e) => setChannel(e.currentTarget.value)} placeholder="my-channel" required data-testid="history-channel" autoComplete="off" />
        </label>
        <label class="field">
          Order
          <select value={direction} onChange={(e) => setDirection(e.currentTarget.value as Direction)} data-testid="history-direction">
            <option value="backwards">Newest first</option>
            <option value="forwards">Oldest first</option>
          </select>
        </label>
        <label class="field">
          Per page
          <input type="number" min={1} max={MAX_PAGE_SIZE} value={limit} onInput={(e) => setLimit(e.currentTarget.value)} data-testid="history-limit" class="narrow" />
        </label>
        <button type="submit" class="btn primary" disabled={!channel.trim()} data-testid="history-load">
          Show history
        </button>
      </form>
      {query && <HistoryResults key={runs} appId={app.id} query={query} pager={pager} />}
    </div>
  );
}

function HistoryResults({ appId, query, pager }: { appId: string; query: Query; pager: ReturnType<typeof useCursor> }) {
  const page = useLoad(
    (signal) =>
      get<HistoryPage>(`/apps/${seg(appId)}/channels/${seg(query.channel)}/messages`, { limit: query.limit, direction: query.direction, cursor: pager.cursor }, signal),
    [appId, query, pager.cursor],
  );
  if (page.error) return <ErrorBox error={page.error} />;
  if (!page.data) return <Loading />;
  const items = page.data.items;
  return (
    <section aria-label={`History of ${query.channel}`}>
      <div class="toolbar">
        <p class="muted small">
          <code>{query.channel}</code>: {fmtNumber(items.length)} message{items.length === 1 ? '' : 's'} on page {pager.page}, {query.direction === 'backwards' ? 'newest first' : 'oldest first'}
        </p>
        <button type="button" class="btn small" onClick={page.reload} data-testid="history-refresh">
          Refresh
        </button>
      </div>
      <LiveTable
        testId="history"
        caption="Messages"
        head={[{ label: 'Serial', numeric: true }, { label: 'Time (UTC)' }, { label: 'Event' }, { label: 'Data' }, { label: 'User' }]}
        isEmpty={items.length === 0}
        empty="No messages."
      >
        {items.map((m) => (
          <tr key={m.serial} data-testid="history-row" data-serial={m.serial}>
            <td class="num mono">{m.serial}</td>
            <td class="mono nowrap" title={new Date(m.published_at_ms).toISOString()}>
              {new Date(m.published_at_ms).toISOString().slice(0, 10)} {fmtClock(m.published_at_ms)}
            </td>
            <td class="mono" data-testid="history-event">{m.event}</td>
            <td>
              <pre class="payload" data-testid="history-data">{prettyData(m.data)}</pre>
            </td>
            <td class="mono">{m.user_id ?? ''}</td>
          </tr>
        ))}
      </LiveTable>
      <Pager pager={pager} nextCursor={page.data.next} />
    </section>
  );
}
