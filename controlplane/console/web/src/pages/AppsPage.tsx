import { useState } from 'preact/hooks';

import { get, type ListPage, post } from '../api';
import { fmtTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { href, navigate } from '../router';
import type { Account, App } from '../types';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError, TextField } from '../ui/Field';
import { LoadedView } from '../ui/LoadedView';
import { Page } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';

/** The most accounts the pickers list (the API's largest page). */
const ACCOUNT_PICKER_LIMIT = 500;

function useAccounts() {
  return useLoad((signal) => get<ListPage<Account>>('/accounts', { limit: ACCOUNT_PICKER_LIMIT }, signal), []);
}

/**
 * Apps, a page at a time, optionally of one account (the API filters) and
 * by name (this page filters what it got); a form to create one.
 */
export function AppsPage() {
  const accounts = useAccounts();
  const [accountId, setAccountId] = useState('');
  const [nameFilter, setNameFilter] = useState('');
  const [creating, setCreating] = useState(false);
  const pager = useCursor();
  const apps = useLoad((signal) => get<ListPage<App>>('/apps', { account_id: accountId, cursor: pager.cursor }, signal), [accountId, pager.cursor]);
  const accountName = (id: string) => accounts.data?.items.find((a) => a.id === id)?.name ?? id;
  const needle = nameFilter.trim().toLowerCase();
  const rows = (apps.data?.items ?? []).filter((a) => !needle || a.name.toLowerCase().includes(needle) || a.id.toLowerCase().includes(needle));
  return (
    <Page
      title="Apps"
      sub="Each app has its own keys, settings, channels and usage."
      actions={
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-app" aria-expanded={creating}>
          New app
        </button>
      }
    >
      {creating && <CreateApp accounts={accounts.data?.items ?? []} defaultAccount={accountId} onCancel={() => setCreating(false)} />}
      <div class="toolbar filters">
        <div class="field">
          <label for="apps-account">Account</label>
          <select
            id="apps-account"
            value={accountId}
            onChange={(e) => {
              setAccountId(e.currentTarget.value);
              pager.reset();
            }}
            data-testid="apps-account-filter"
          >
            <option value="">All accounts</option>
            {accounts.data?.items.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="apps-name">Name</label>
          <input
            id="apps-name"
            type="search"
            placeholder="Filter this page by name or id"
            value={nameFilter}
            onInput={(e) => setNameFilter(e.currentTarget.value)}
            data-testid="apps-name-filter"
          />
        </div>
      </div>
      <ErrorBox error={accounts.error} />
      <LoadedView value={apps}>
        {(data) => (
          <>
            <Table
              testId="apps"
              caption="Apps"
              rows={rows}
              rowKey={(a) => a.id}
              empty={needle ? 'No app on this page matches.' : 'No apps yet.'}
              columns={[
                { label: 'Name', render: (a) => <a href={href('apps', a.id)}>{a.name}</a> },
                { label: 'ID', nowrap: true, render: (a) => <code>{a.id}</code> },
                { label: 'Account', render: (a) => <a href={href('accounts', a.account_id)}>{accountName(a.account_id)}</a> },
                { label: 'State', render: (a) => (a.enabled ? <span class="badge ok">Enabled</span> : <span class="badge off">Disabled</span>) },
                { label: 'Updated', nowrap: true, render: (a) => fmtTime(a.updated_at) },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadedView>
    </Page>
  );
}

function CreateApp({ accounts, defaultAccount, onCancel }: { accounts: Account[]; defaultAccount: string; onCancel: () => void }) {
  const [accountId, setAccountId] = useState(defaultAccount || accounts[0]?.id || '');
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const { busy, error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const a = await run(() => post<App>('/apps', { account_id: accountId, name, ...(id.trim() ? { id: id.trim() } : {}) }));
    if (a) navigate('apps', a.id, 'keys');
  };
  return (
    <form class="card form create" onSubmit={submit} data-testid="create-app-form" noValidate>
      <h2>New app</h2>
      <ErrorBox error={formError(error, ['account_id', 'name', 'id'])} />
      <div class="grid2">
        <Field label="Account" name="account_id" error={fieldError(error, 'account_id')}>
          {(f) => (
            <select
              id={f.id}
              aria-describedby={f.describedBy}
              aria-invalid={f.invalid}
              value={accountId}
              onChange={(e) => setAccountId(e.currentTarget.value)}
              data-testid="app-account"
            >
              {accounts.length === 0 && <option value="">Create an account first</option>}
              {accounts.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField label="Name" name="name" value={name} onValue={setName} error={error} testId="app-name" />
        <TextField
          label="ID (optional)"
          name="id"
          value={id}
          onValue={setId}
          error={error}
          hint="Letters, digits, - and _; generated when empty. Use Pusher's app id when migrating."
          testId="app-id"
        />
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={busy} data-testid="create-app">
          Create app
        </button>
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
