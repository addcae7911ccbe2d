import '../live/live.css';

import { useState } from 'preact/hooks';

import { del, get, type ListPage, post, seg } from '../api';
import { useLoad } from '../hooks';
import { DeliveryLog } from '../live/DeliveryLog';
import { EndpointForm } from '../live/EndpointForm';
import { LiveTable } from '../live/LiveTable';
import type { WebhookEndpoint, WebhookTestResult } from '../live/webhookTypes';
import { ConfirmButton } from '../ui/ConfirmButton';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import type { AppTabProps } from './tabs';

/** What the form shows: nothing, a new endpoint, or one being edited. */
type Editing = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; endpoint: WebhookEndpoint };

/** The app's webhook endpoints: create, edit, test, delete; each one's delivery log. */
export function WebhooksTab({ app }: AppTabProps) {
  const pager = useCursor();
  const list = useLoad((signal) => get<ListPage<WebhookEndpoint>>(`/apps/${seg(app.id)}/webhooks`, { cursor: pager.cursor }, signal), [app.id, pager.cursor]);
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [tests, setTests] = useState<Record<string, WebhookTestResult | { error: unknown } | 'running'>>({});
  const [error, setError] = useState<unknown>(undefined);

  const endpoints = list.data?.items ?? [];
  const shownLog = selected && endpoints.some((w) => w.id === selected) ? selected : undefined;

  const test = async (id: string) => {
    setTests((t) => ({ ...t, [id]: 'running' }));
    try {
      const r = await post<WebhookTestResult>(`/apps/${seg(app.id)}/webhooks/${seg(id)}/test`);
      setTests((t) => ({ ...t, [id]: r }));
    } catch (err) {
      setTests((t) => ({ ...t, [id]: { error: err } }));
    }
  };
  const remove = async (id: string) => {
    setError(undefined);
    try {
      await del(`/apps/${seg(app.id)}/webhooks/${seg(id)}`);
      if (selected === id) setSelected(undefined);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const saved = (w: WebhookEndpoint) => {
    setEditing({ kind: 'none' });
    setSelected(w.id);
    list.reload();
  };

  return (
    <div class="stack" data-testid="webhooks-tab" data-app={app.id}>
      <div class="toolbar">
        <p class="muted">Herald POSTs this app's channel events to these endpoints in Pusher's webhook format, signed with the app's oldest key.</p>
        {editing.kind === 'none' && (
          <button type="button" class="btn primary" onClick={() => setEditing({ kind: 'new' })} data-testid="add-endpoint">
            Add endpoint
          </button>
        )}
      </div>
      {editing.kind !== 'none' && (
        <EndpointForm
          key={editing.kind === 'edit' ? editing.endpoint.id : 'new'}
          appId={app.id}
          endpoint={editing.kind === 'edit' ? editing.endpoint : undefined}
          onSaved={saved}
          onCancel={() => setEditing({ kind: 'none' })}
        />
      )}
      <ErrorBox error={error ?? list.error} />
      {!list.data && !list.error && <Loading />}
      {list.data && (
        <LiveTable
          testId="endpoints"
          caption="Webhook endpoints"
          head={[{ label: 'URL' }, { label: 'Events' }, { label: 'State' }, { label: 'Test' }, { label: 'Actions' }]}
          isEmpty={endpoints.length === 0}
          empty="No endpoints: this app sends no webhooks."
        >
          {endpoints.map((w) => (
            <tr key={w.id} class={w.id === shownLog ? 'selected' : undefined} data-testid="endpoint" data-endpoint={w.id}>
              <td>
                <div class="endpoint-url">{w.url}</div>
                <div class="muted small">
                  {w.id}
                  {w.channel_filter && <> · channels {w.channel_filter}</>}
                  {w.batch && ' · batched'}
                </div>
              </td>
              <td class="small">{w.events.join(', ')}</td>
              <td>
                <span class={w.enabled ? 'badge ok' : 'badge off'}>{w.enabled ? 'Enabled' : w.disabled_at ? 'Disabled (failing)' : 'Disabled'}</span>
                {w.failing_since && (
                  <div class="small muted">failing since {new Date(w.failing_since).toISOString().slice(0, 19).replace('T', ' ')}</div>
                )}
              </td>
              <td data-testid="test-result" aria-live="polite">
                <TestResult r={tests[w.id]} />
              </td>
              <td>
                <div class="actions">
                  <button type="button" class="btn small" aria-pressed={w.id === shownLog ? 'true' : 'false'} onClick={() => setSelected(w.id === shownLog ? undefined : w.id)} data-testid="show-deliveries">
                    Deliveries
                  </button>
                  <button type="button" class="btn small" onClick={() => test(w.id)} disabled={tests[w.id] === 'running'} data-testid="test-endpoint">
                    Test
                  </button>
                  <button type="button" class="btn small" onClick={() => setEditing({ kind: 'edit', endpoint: w })} data-testid="edit-endpoint">
                    Edit
                  </button>
                  <ConfirmButton question="Delete this endpoint and its delivery log?" confirmLabel="Delete" onConfirm={() => remove(w.id)} testId="delete-endpoint">
                    Delete
                  </ConfirmButton>
                </div>
              </td>
            </tr>
          ))}
        </LiveTable>
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor} />
      {shownLog && <DeliveryLog key={shownLog} appId={app.id} endpointId={shownLog} />}
    </div>
  );
}

function TestResult({ r }: { r: WebhookTestResult | { error: unknown } | 'running' | undefined }) {
  if (!r) return null;
  if (r === 'running') return <span class="muted">Sending…</span>;
  if ('error' in r && !('status_code' in r)) return <ErrorBox error={r.error} />;
  const t = r as WebhookTestResult;
  return (
    <span class={t.ok ? 'badge ok' : 'badge failed'} data-testid="test-status" data-code={t.status_code}>
      {t.status_code === 0 ? 'no answer' : `HTTP ${t.status_code}`} · {t.duration_ms} ms{t.error ? ` · ${t.error}` : ''}
    </span>
  );
}
