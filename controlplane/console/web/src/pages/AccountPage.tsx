import { useState } from 'preact/hooks';

import { del, get, type ListPage, patch, seg } from '../api';
import { fmtBytes, fmtNumber, fmtTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { href, navigate } from '../router';
import type { Account, App } from '../types';
import { ConfirmButton } from '../ui/ConfirmButton';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError } from '../ui/Field';
import { LoadedView } from '../ui/LoadedView';
import { Loading, Page } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';
import { getUsage } from '../usage';
import { usePlans } from './plans';

/** The totals the account page shows: the last 30 days, by day. */
const TOTALS_DAYS = 30;
const DAY_MS = 24 * 3600_000;

/** One account: its plan, its usage totals, its apps; delete it. */
export function AccountPage({ id }: { id: string }) {
  const account = useLoad((signal) => get<Account>(`/accounts/${seg(id)}`, undefined, signal), [id]);
  const { error, run } = useAction();
  if (!account.data) {
    return <Page title={id}>{account.error ? <ErrorBox error={account.error} /> : <Loading />}</Page>;
  }
  const a = account.data;
  const remove = async () => {
    if (await run(async () => (await del(`/accounts/${seg(a.id)}`), true))) navigate('accounts');
  };
  return (
    <Page
      title={a.name}
      sub={
        <>
          id <code>{a.id}</code> · created {fmtTime(a.created_at)}
        </>
      }
      actions={
        <>
          <a class="btn" href={href('usage', 'accounts', a.id)}>
            Usage charts
          </a>
          <ConfirmButton question={`Delete ${a.name}?`} confirmLabel="Delete" onConfirm={remove} testId="delete-account">
            Delete account
          </ConfirmButton>
        </>
      }
    >
      <div class="stack">
        <ErrorBox error={error} />
        <AccountPlan account={a} onChange={account.set} />
        <AccountTotals id={a.id} key={a.plan_id ?? ''} />
        <AccountApps id={a.id} />
      </div>
    </Page>
  );
}

function AccountPlan({ account, onChange }: { account: Account; onChange: (a: Account) => void }) {
  const plans = usePlans();
  const [planId, setPlanId] = useState(account.plan_id ?? '');
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const a = await run(() => patch<Account>(`/accounts/${seg(account.id)}`, { plan_id: planId || null }));
    if (a) {
      onChange(a);
      setSaved(true);
    }
  };
  return (
    <form class="card inline-form" onSubmit={submit} data-testid="account-plan-form">
      <Field label="Plan" name="plan_id" error={fieldError(error, 'plan_id')}>
        {(f) => (
          <select
            id={f.id}
            aria-describedby={f.describedBy}
            aria-invalid={f.invalid}
            value={planId}
            onChange={(e) => {
              setPlanId(e.currentTarget.value);
              setSaved(false);
            }}
            data-testid="account-plan"
          >
            <option value="">No plan (unlimited)</option>
            {plans.data?.items.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            {account.plan_id && !plans.data?.items.some((p) => p.id === account.plan_id) && <option value={account.plan_id}>{account.plan_id}</option>}
          </select>
        )}
      </Field>
      <button type="submit" class="btn primary" disabled={busy || planId === (account.plan_id ?? '')} data-testid="assign-plan">
        Assign plan
      </button>
      {saved && (
        <span class="ok-text" role="status">
          Saved.
        </span>
      )}
      <ErrorBox error={formError(error, ['plan_id']) ?? plans.error} />
      <p class="muted small full">The plan's limits apply to every app of the account; the apps' configs are republished at once.</p>
    </form>
  );
}

function AccountTotals({ id }: { id: string }) {
  const [now] = useState(() => Date.now());
  const report = useLoad(
    (signal) => getUsage({ kind: 'accounts', id }, { from: new Date(now - TOTALS_DAYS * DAY_MS), to: new Date(now), granularity: 'day' }, signal),
    [id, now],
  );
  return (
    <section class="card" data-testid="account-totals">
      <h2>Usage, last {TOTALS_DAYS} days</h2>
      <LoadedView value={report}>
        {({ totals: t, remaining: r }) => (
          <dl class="kv totals">
            <dt>Messages</dt>
            <dd>{fmtNumber(t.messages)}</dd>
            <dt>Published / delivered</dt>
            <dd>
              {fmtNumber(t.messages_published)} / {fmtNumber(t.messages_delivered)}
            </dd>
            <dt>Peak connections</dt>
            <dd>{fmtNumber(t.peak_connections)}</dd>
            <dt>Connection time</dt>
            <dd>{fmtNumber(Math.round(t.connection_seconds / 60))} minutes</dd>
            <dt>Bytes in / out</dt>
            <dd>
              {fmtBytes(t.bytes_in)} / {fmtBytes(t.bytes_out)}
            </dd>
            <dt>API requests</dt>
            <dd>{fmtNumber(t.api_requests)}</dd>
            <dt>Webhook calls</dt>
            <dd>{fmtNumber(t.webhook_calls)}</dd>
            {r.messages_today !== null && (
              <>
                <dt>Messages left today</dt>
                <dd>{fmtNumber(r.messages_today)}</dd>
              </>
            )}
            {r.messages_this_month !== null && (
              <>
                <dt>Messages left this month</dt>
                <dd>{fmtNumber(r.messages_this_month)}</dd>
              </>
            )}
            {t.over_quota && (
              <>
                <dt>Quota</dt>
                <dd>
                  <span class="badge warn">Over quota in this range</span>
                </dd>
              </>
            )}
          </dl>
        )}
      </LoadedView>
    </section>
  );
}

function AccountApps({ id }: { id: string }) {
  const pager = useCursor();
  const apps = useLoad((signal) => get<ListPage<App>>('/apps', { account_id: id, cursor: pager.cursor }, signal), [id, pager.cursor]);
  return (
    <section>
      <div class="toolbar">
        <h2 class="flush">Apps</h2>
        <span class="spacer" />
        <a class="btn" href={href('apps')}>
          Create an app
        </a>
      </div>
      <LoadedView value={apps}>
        {(data) => (
          <>
            <Table
              caption="Apps of the account"
              rows={data.items}
              rowKey={(x) => x.id}
              empty="This account has no apps."
              columns={[
                { label: 'Name', render: (x) => <a href={href('apps', x.id)}>{x.name}</a> },
                { label: 'ID', nowrap: true, render: (x) => <code>{x.id}</code> },
                { label: 'State', render: (x) => (x.enabled ? <span class="badge ok">Enabled</span> : <span class="badge off">Disabled</span>) },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadedView>
    </section>
  );
}
