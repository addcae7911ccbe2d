import { useState } from 'preact/hooks';

import { post, seg } from '../api';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError } from '../ui/Field';

/** The answer of a publish: the serial of the message on each channel. */
interface TriggerAnswer {
  serials?: Record<string, number>;
}

/** The API's names of the creator's inputs, for its error messages. */
const FIELDS = ['channels', 'channel', 'name', 'data'];

/** Channel names as typed: separated by spaces or new lines (a comma is a character of names). */
export const splitChannels = (s: string) => s.split(/\s+/).filter(Boolean);

/**
 * The event creator: publishes an event to one or more channels through
 * the admin API (as the app's backend would through the tenant API), and
 * shows the serials it answered or its error.
 */
export function EventCreator({ appId }: { appId: string }) {
  const [chans, setChans] = useState('');
  const [name, setName] = useState('');
  const [data, setData] = useState('{"message":"hello"}');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [answer, setAnswer] = useState<TriggerAnswer | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setAnswer(undefined);
    try {
      // data is the message's data as the clients get it: JSON text as is.
      setAnswer(await post<TriggerAnswer>(`/apps/${seg(appId)}/events`, { name, channels: splitChannels(chans), data }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const chanErr = fieldError(error, 'channels') ?? fieldError(error, 'channel');
  return (
    <form class="card form event-creator" onSubmit={submit} noValidate data-testid="event-creator" aria-label="Event creator">
      <h2>Event creator</h2>
      <ErrorBox error={formError(error, FIELDS)} />
      <div class="creator-grid">
        <Field label="Channels" name="channels" hint="One or more, separated by spaces" error={chanErr}>
          {(f) => <input id={f.id} aria-describedby={f.describedBy} aria-invalid={f.invalid} value={chans} onInput={(e) => setChans(e.currentTarget.value)} placeholder="my-channel" data-testid="creator-channels" autoComplete="off" />}
        </Field>
        <Field label="Event" name="name" error={fieldError(error, 'name')}>
          {(f) => <input id={f.id} aria-describedby={f.describedBy} aria-invalid={f.invalid} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="my-event" data-testid="creator-event" autoComplete="off" />}
        </Field>
        <Field label="Data" name="data" hint="JSON or text, sent as is" error={fieldError(error, 'data')}>
          {(f) => <textarea id={f.id} aria-describedby={f.describedBy} aria-invalid={f.invalid} rows={3} value={data} onInput={(e) => setData(e.currentTarget.value)} data-testid="creator-data" />}
        </Field>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={busy} data-testid="creator-send">
          {busy ? 'Publishing…' : 'Publish event'}
        </button>
        {answer && (
          <span class="ok-text" role="status" data-testid="creator-result">
            Published:{' '}
            {Object.entries(answer.serials ?? {}).map(([ch, serial], i) => (
              <span key={ch}>
                {i > 0 && ', '}
                <code>{ch}</code> serial <strong data-testid="creator-serial">{serial}</strong>
              </span>
            ))}
          </span>
        )}
      </div>
    </form>
  );
}
