import { useState } from 'preact/hooks';

import { del, patch, seg } from '../api';
import { useAction } from '../hooks';
import { navigate } from '../router';
import type { App, Settings } from '../types';
import { ConfirmButton } from '../ui/ConfirmButton';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError, TextField } from '../ui/Field';
import { settingDefs } from './settings';
import type { AppTabProps } from './tabs';

/** The form's text of each setting. */
type Draft = Record<string, string | boolean>;

function draftOf(app: App): Draft {
  const d: Draft = { name: app.name };
  for (const s of settingDefs) {
    const v = app.settings[s.name];
    if (s.kind === 'bool') d[s.name] = Boolean(v);
    else if (s.kind === 'list') d[s.name] = Array.isArray(v) ? v.join('\n') : '';
    else d[s.name] = v === undefined || v === null ? '' : String(v);
  }
  return d;
}

/**
 * The settings the form sends: every one, as typed. A number that does
 * not parse is sent as the text, so that the API's own message names it.
 */
function settingsOf(d: Draft): Settings {
  const out: Settings = {};
  for (const s of settingDefs) {
    const v = d[s.name];
    if (s.kind === 'bool') out[s.name] = Boolean(v);
    else if (s.kind === 'list')
      out[s.name] = String(v)
        .split('\n')
        .map((x) => x.trim())
        .filter(Boolean);
    else {
      const t = String(v).trim();
      out[s.name] = /^-?\d+$/.test(t) ? Number(t) : t;
    }
  }
  return out;
}

const shownFields = ['name', ...settingDefs.map((s) => `settings.${s.name}`)];

/** Edit an app's name and every setting; enable, disable, delete. */
export function SettingsTab({ app, onAppChange }: AppTabProps) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(app));
  const [saved, setSaved] = useState(false);
  const { busy, error, run, clear } = useAction();
  const set = (k: string, v: string | boolean) => {
    setDraft({ ...draft, [k]: v });
    setSaved(false);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const a = await run(() => patch<App>(`/apps/${seg(app.id)}`, { name: String(draft.name), settings: settingsOf(draft) }));
    if (a) {
      onAppChange(a);
      setDraft(draftOf(a));
      setSaved(true);
    }
  };
  const setEnabled = async (enabled: boolean) => {
    const a = await run(() => patch<App>(`/apps/${seg(app.id)}`, { enabled }));
    if (a) onAppChange(a);
  };
  const remove = async () => {
    if (await run(async () => (await del(`/apps/${seg(app.id)}`), true))) navigate('apps');
  };
  return (
    <div class="stack">
      <form class="card form" onSubmit={save} data-testid="settings-form" noValidate>
        <h2>Settings</h2>
        <ErrorBox error={formError(error, shownFields)} />
        <TextField label="Name" name="name" value={String(draft.name)} onValue={(v) => set('name', v)} error={error} />
        <div class="grid2">
          {settingDefs.map((s) =>
            s.kind === 'bool' ? (
              <Field key={s.name} label={s.label} name={`settings.${s.name}`} hint={s.hint} error={fieldError(error, `settings.${s.name}`)}>
                {(f) => (
                  <select
                    id={f.id}
                    aria-describedby={f.describedBy}
                    aria-invalid={f.invalid}
                    value={draft[s.name] ? 'on' : 'off'}
                    onChange={(e) => set(s.name, e.currentTarget.value === 'on')}
                  >
                    <option value="off">Off</option>
                    <option value="on">On</option>
                  </select>
                )}
              </Field>
            ) : (
              <TextField
                key={s.name}
                label={s.label}
                name={`settings.${s.name}`}
                hint={s.hint}
                numeric={s.kind === 'int'}
                multiline={s.kind === 'list'}
                value={String(draft[s.name])}
                onValue={(v) => set(s.name, v)}
                error={error}
              />
            ),
          )}
        </div>
        <div class="form-actions">
          <button type="submit" class="btn primary" disabled={busy} data-testid="save-settings">
            {busy ? 'Saving…' : 'Save settings'}
          </button>
          <button
            type="button"
            class="btn"
            onClick={() => {
              setDraft(draftOf(app));
              clear();
              setSaved(false);
            }}
          >
            Reset
          </button>
          {saved && (
            <span class="ok-text" role="status" data-testid="saved">
              Saved.
            </span>
          )}
        </div>
      </form>
      <section class="card">
        <h2>State</h2>
        <p class="muted">A disabled app refuses new connections and API calls; its connections are closed.</p>
        <div class="form-actions">
          {app.enabled ? (
            <ConfirmButton question={`Disable ${app.name}?`} confirmLabel="Disable" onConfirm={() => setEnabled(false)} testId="disable-app">
              Disable app
            </ConfirmButton>
          ) : (
            <button type="button" class="btn primary" onClick={() => setEnabled(true)} data-testid="enable-app">
              Enable app
            </button>
          )}
        </div>
      </section>
      <section class="card danger-zone">
        <h2>Delete</h2>
        <p class="muted">Deleting an app removes its keys and settings for good.</p>
        <ConfirmButton question={`Delete ${app.name} for good?`} confirmLabel="Delete" onConfirm={remove} testId="delete-app">
          Delete app
        </ConfirmButton>
      </section>
    </div>
  );
}
