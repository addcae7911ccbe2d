import { useState } from 'preact/hooks';

import { del, patch, post, seg } from '../api';
import { fmtNumber } from '../format';
import { useAction } from '../hooks';
import type { Plan } from '../types';
import { ConfirmButton } from '../ui/ConfirmButton';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError, TextField } from '../ui/Field';
import { LoadedView } from '../ui/LoadedView';
import { Page } from '../ui/Page';
import { Table } from '../ui/Table';
import { usePlans } from './plans';

/** A plan's limits (billing/plan.go: Limits); 0 means unlimited. */
const limitDefs = [
  { name: 'max_connections', label: 'Max connections', hint: 'Per account, over all its apps.' },
  { name: 'max_messages_per_day', label: 'Messages per day', hint: 'Per account, UTC day.' },
  { name: 'max_messages_per_month', label: 'Messages per month', hint: 'Per account, UTC month.' },
  { name: 'max_message_bytes', label: 'Max message bytes', hint: "Lowers each app's setting." },
  { name: 'publish_rate', label: 'Publish rate', hint: 'API publishes per second, per app.' },
  { name: 'client_event_rate', label: 'Client event rate', hint: 'Per connection, per second.' },
  { name: 'max_presence_members', label: 'Max presence members', hint: 'Per presence channel.' },
  { name: 'history_retention_s', label: 'History retention (s)', hint: "Lowers each app's setting." },
  { name: 'resume_window_s', label: 'Resume window (s)', hint: "Lowers each app's setting." },
  { name: 'max_webhook_endpoints', label: 'Max webhook endpoints', hint: 'Per app.' },
];

const shownFields = ['name', 'enforcement', ...limitDefs.map((l) => `limits.${l.name}`)];

const limitText = (n: number | undefined) => (!n ? 'Unlimited' : fmtNumber(n));

/** Plans: their limits, a form to create one and one to edit each. */
export function PlansPage() {
  const plans = usePlans();
  const [editing, setEditing] = useState<Plan | 'new' | undefined>(undefined);
  return (
    <Page
      title="Plans"
      sub="A plan sets the limits of the accounts on it; 0 means unlimited. Hard enforcement refuses what is over a quota, soft only records it."
      actions={
        <button type="button" class="btn primary" onClick={() => setEditing('new')} data-testid="new-plan">
          New plan
        </button>
      }
    >
      <div class="stack">
        {editing && (
          <PlanForm
            plan={editing === 'new' ? undefined : editing}
            key={editing === 'new' ? 'new' : editing.id}
            onDone={(changed) => {
              setEditing(undefined);
              if (changed) plans.reload();
            }}
          />
        )}
        <LoadedView value={plans}>
          {(data) => (
            <Table
              testId="plans"
              caption="Plans"
              rows={data.items}
              rowKey={(p) => p.id}
              empty="No plans: every account is unlimited."
              columns={[
                { label: 'Name', render: (p) => <strong>{p.name}</strong> },
                { label: 'ID', nowrap: true, render: (p) => <code>{p.id}</code> },
                { label: 'Enforcement', render: (p) => <span class={p.enforcement === 'hard' ? 'badge warn' : 'badge'}>{p.enforcement}</span> },
                { label: 'Connections', numeric: true, render: (p) => limitText(p.limits.max_connections) },
                { label: 'Msgs/day', numeric: true, render: (p) => limitText(p.limits.max_messages_per_day) },
                { label: 'Msgs/month', numeric: true, render: (p) => limitText(p.limits.max_messages_per_month) },
                { label: 'Publish rate', numeric: true, render: (p) => limitText(p.limits.publish_rate) },
                {
                  label: 'Actions',
                  render: (p) => (
                    <button type="button" class="btn small" onClick={() => setEditing(p)} data-testid={`edit-plan-${p.id}`}>
                      Edit
                    </button>
                  ),
                },
              ]}
            />
          )}
        </LoadedView>
      </div>
    </Page>
  );
}

function PlanForm({ plan, onDone }: { plan?: Plan; onDone: (changed: boolean) => void }) {
  const [name, setName] = useState(plan?.name ?? '');
  const [enforcement, setEnforcement] = useState(plan?.enforcement ?? 'hard');
  const [limits, setLimits] = useState<Record<string, string>>(() => Object.fromEntries(limitDefs.map((l) => [l.name, String(plan?.limits[l.name] ?? 0)])));
  const { busy, error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    // A number that does not parse goes as typed, for the API to name it.
    const lim = Object.fromEntries(
      limitDefs.map((l) => {
        const t = limits[l.name].trim();
        return [l.name, /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t];
      }),
    );
    const body = { name, enforcement, limits: lim };
    const saved = await run(() => (plan ? patch<Plan>(`/plans/${seg(plan.id)}`, body) : post<Plan>('/plans', body)));
    if (saved) onDone(true);
  };
  // The API refuses (409) while accounts use the plan, saying how many.
  const remove = async () => {
    if (plan && (await run(async () => (await del(`/plans/${seg(plan.id)}`), true)))) onDone(true);
  };
  return (
    <form class="card form" onSubmit={submit} data-testid="plan-form" noValidate>
      <h2>{plan ? `Edit ${plan.name}` : 'New plan'}</h2>
      <ErrorBox error={formError(error, shownFields)} />
      <div class="grid2">
        <TextField label="Name" name="name" value={name} onValue={setName} error={error} testId="plan-name" />
        <Field label="Enforcement" name="enforcement" error={fieldError(error, 'enforcement')}>
          {(f) => (
            <select
              id={f.id}
              aria-describedby={f.describedBy}
              aria-invalid={f.invalid}
              value={enforcement}
              onChange={(e) => setEnforcement(e.currentTarget.value)}
            >
              <option value="hard">Hard: refuse what is over a quota</option>
              <option value="soft">Soft: record it only</option>
            </select>
          )}
        </Field>
        {limitDefs.map((l) => (
          <TextField
            key={l.name}
            label={l.label}
            name={`limits.${l.name}`}
            hint={l.hint}
            numeric
            value={limits[l.name]}
            onValue={(v) => setLimits({ ...limits, [l.name]: v })}
            error={error}
          />
        ))}
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={busy} data-testid="save-plan">
          {plan ? 'Save plan' : 'Create plan'}
        </button>
        <button type="button" class="btn" onClick={() => onDone(false)}>
          Cancel
        </button>
        {plan && (
          <>
            <span class="spacer" />
            <ConfirmButton question={`Delete ${plan.name}?`} confirmLabel="Delete" onConfirm={remove} testId="delete-plan">
              Delete plan
            </ConfirmButton>
          </>
        )}
      </div>
    </form>
  );
}
