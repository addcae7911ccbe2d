import { useState } from 'preact/hooks';

import { patch, post, seg } from '../api';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError } from '../ui/Field';
import { defaultWebhookEvents, type WebhookEndpoint, webhookEventNames } from './webhookTypes';

const FIELDS = ['url', 'events', 'channel_filter', 'batch', 'enabled'];

interface Props {
  appId: string;
  /** The endpoint to edit; none creates one. */
  endpoint?: WebhookEndpoint;
  onSaved: (w: WebhookEndpoint) => void;
  onCancel: () => void;
}

/** Creates or edits a webhook endpoint; the API's validation messages show beside their inputs. */
export function EndpointForm({ appId, endpoint, onSaved, onCancel }: Props) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [events, setEvents] = useState<string[]>(endpoint?.events ?? defaultWebhookEvents);
  const [batch, setBatch] = useState(endpoint?.batch ?? false);
  const [enabled, setEnabled] = useState(endpoint?.enabled ?? true);
  const [filter, setFilter] = useState(endpoint?.channel_filter ?? '');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const toggleEvent = (name: string, on: boolean) => setEvents(on ? webhookEventNames.filter((n) => n === name || events.includes(n)) : events.filter((n) => n !== name));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const body = { url: url.trim(), events, batch, enabled, channel_filter: filter.trim() };
    try {
      const base = `/apps/${seg(appId)}/webhooks`;
      onSaved(endpoint ? await patch<WebhookEndpoint>(`${base}/${seg(endpoint.id)}`, body) : await post<WebhookEndpoint>(base, body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const eventsError = fieldError(error, 'events');
  return (
    <form class="card form" onSubmit={submit} noValidate data-testid="endpoint-form" aria-label={endpoint ? 'Edit endpoint' : 'New endpoint'}>
      <h2>{endpoint ? 'Edit endpoint' : 'New endpoint'}</h2>
      <ErrorBox error={formError(error, FIELDS)} />
      <Field label="URL" name="url" hint="http or https; the app's backend that receives Pusher-format webhooks" error={fieldError(error, 'url')}>
        {(f) => <input id={f.id} aria-describedby={f.describedBy} aria-invalid={f.invalid} type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="https://example.com/pusher/webhooks" data-testid="endpoint-url" autoComplete="off" />}
      </Field>
      <fieldset class={`events-choice${eventsError ? ' invalid' : ''}`} data-field="events">
        <legend>Events</legend>
        {webhookEventNames.map((n) => (
          <label key={n}>
            <input type="checkbox" checked={events.includes(n)} onChange={(e) => toggleEvent(n, e.currentTarget.checked)} data-testid={`endpoint-event-${n}`} />
            {n}
          </label>
        ))}
        {eventsError && (
          <p class="field-error" role="alert" data-testid="field-error">
            {eventsError}
          </p>
        )}
      </fieldset>
      <Field label="Channel filter" name="channel_filter" hint="Only channels matching this pattern (* matches any run); empty: every channel" error={fieldError(error, 'channel_filter')}>
        {(f) => <input id={f.id} aria-describedby={f.describedBy} aria-invalid={f.invalid} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="private-*" data-testid="endpoint-filter" autoComplete="off" />}
      </Field>
      <div class="form-actions">
        <label class="check">
          <input type="checkbox" checked={batch} onChange={(e) => setBatch(e.currentTarget.checked)} data-testid="endpoint-batch" />
          Batch (up to 100 events per request, one request a second)
        </label>
        <label class="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} data-testid="endpoint-enabled" />
          Enabled
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={busy} data-testid="endpoint-save">
          {busy ? 'Saving…' : endpoint ? 'Save endpoint' : 'Create endpoint'}
        </button>
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
