import { useState } from 'preact/hooks';

import { get, type ListPage, seg, send } from '../api';
import { fmtTime } from '../format';
import { useLoad } from '../hooks';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { LiveTable } from './LiveTable';
import { usePoll } from './usePoll';
import type { DeliveryStatus, WebhookDelivery } from './webhookTypes';

/** How often the delivery log is read again while it is visible. */
export const DELIVERIES_POLL_MS = 2000;
/** Deliveries per page of each status. */
export const DELIVERIES_PAGE_SIZE = 25;

/** The sections of the log, failures first. */
const SECTIONS: { status: DeliveryStatus; title: string; empty: string }[] = [
  { status: 'failed', title: 'Failed', empty: 'No failed deliveries.' },
  { status: 'pending', title: 'Pending', empty: 'Nothing pending.' },
  { status: 'delivered', title: 'Delivered', empty: 'Nothing delivered yet.' },
];

interface Props {
  appId: string;
  endpointId: string;
}

/**
 * An endpoint's delivery log, failed deliveries first, then pending, then
 * delivered (each newest first, paged), refreshed live; any finished
 * delivery can be sent again.
 */
export function DeliveryLog({ appId, endpointId }: Props) {
  const tick = usePoll(DELIVERIES_POLL_MS);
  const [result, setResult] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [bump, setBump] = useState(0);
  const redeliver = async (id: string) => {
    setResult(undefined);
    setError(undefined);
    try {
      // 202 with no body: the delivery is pending again.
      await send('POST', `/apps/${seg(appId)}/webhooks/${seg(endpointId)}/deliveries/${seg(id)}/redeliver`);
      setResult(`Delivery ${id} is pending again and is being sent now.`);
      setBump((b) => b + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-label="Delivery log" data-testid="delivery-log" data-endpoint={endpointId}>
      <h2>Delivery log</h2>
      {result && (
        <div class="alert info" role="status" data-testid="redeliver-result">
          {result}
        </div>
      )}
      <ErrorBox error={error} />
      {SECTIONS.map((s) => (
        <DeliverySection key={s.status} {...s} appId={appId} endpointId={endpointId} refresh={tick + bump} onRedeliver={redeliver} />
      ))}
    </section>
  );
}

interface SectionProps extends Props {
  status: DeliveryStatus;
  title: string;
  empty: string;
  refresh: number;
  onRedeliver: (id: string) => Promise<void>;
}

function DeliverySection({ appId, endpointId, status, title, empty, refresh, onRedeliver }: SectionProps) {
  const pager = useCursor();
  const page = useLoad(
    (signal) =>
      get<ListPage<WebhookDelivery>>(`/apps/${seg(appId)}/webhooks/${seg(endpointId)}/deliveries`, { status, limit: DELIVERIES_PAGE_SIZE, cursor: pager.cursor }, signal),
    [appId, endpointId, status, pager.cursor, refresh],
  );
  const items = page.data?.items ?? [];
  return (
    <div data-testid={`deliveries-${status}`}>
      <div class="section-title">
        <h3>{title}</h3>
        {page.data && <span class={`badge ${status}`}>{items.length}{page.data.next_cursor ? '+' : ''}</span>}
      </div>
      <ErrorBox error={page.error} />
      {!page.data && !page.error ? (
        <Loading />
      ) : (
        <LiveTable
          class="delivery-table"
          caption={`${title} deliveries`}
          head={[
            { label: 'Delivery' },
            { label: 'Created' },
            { label: 'Status' },
            { label: 'Events', numeric: true },
            { label: 'Attempts', numeric: true },
            { label: 'Last HTTP status', numeric: true },
            { label: 'Last error' },
            { label: status === 'pending' ? 'Next attempt' : status === 'delivered' ? 'Delivered' : '' },
            { label: 'Actions' },
          ]}
          isEmpty={items.length === 0}
          empty={empty}
        >
          {items.map((d) => (
            <tr key={d.id} data-testid="delivery" data-delivery={d.id} data-status={d.status}>
              <td class="mono">{d.id}</td>
              <td class="nowrap">{fmtTime(d.created_at)}</td>
              <td>
                <span class={`badge ${d.status}`} data-testid="delivery-status">
                  {d.status}
                </span>
              </td>
              <td class="num">{d.event_count}</td>
              <td class="num" data-testid="delivery-attempts">
                {d.attempts}
              </td>
              <td class="num" data-testid="delivery-code">
                {d.last_status_code === null ? '—' : d.last_status_code === 0 ? 'no answer' : d.last_status_code}
              </td>
              <td data-testid="delivery-error">{d.last_error ?? ''}</td>
              <td class="nowrap">{status === 'pending' ? fmtTime(d.next_attempt_at) : status === 'delivered' ? fmtTime(d.delivered_at) : ''}</td>
              <td>
                {d.status !== 'pending' && (
                  <button type="button" class="btn small" onClick={() => onRedeliver(d.id)} data-testid="redeliver">
                    Redeliver
                  </button>
                )}
              </td>
            </tr>
          ))}
        </LiveTable>
      )}
      <Pager pager={pager} nextCursor={page.data?.next_cursor} />
    </div>
  );
}
