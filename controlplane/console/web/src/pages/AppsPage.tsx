import { useEffect, useState } from 'preact/hooks';

import { get, type ListPage, post } from '../api';
import { fmtTime } from '../format';
import { useAction, useDebounced, useLoad } from '../hooks';
import { hashParam, href, navigate, setHashParam } from '../router';
import type { Account, App } from '../types';
import { ErrorBox } from '../ui/ErrorBox';
import { Field, fieldError, formError, TextField } from '../ui/Field';
import { LoadedView } from '../ui/LoadedView';
import { Page } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';

/** The most accounts the pickers list (the API's largest page). */
const ACCOUNT_PICKER_LIMIT = 500;
/** How long the search box waits after the last key before asking the API. */
const SEARCH_DEBOUNCE_MS = 250;
/** The longest search the API takes (controlplane.MaxAppSearchLen). */
const SEARCH_MAX_LENGTH = 200;

function useAccounts() {
  return useLoad((signal) => get<ListPage<Account>>('/accounts', { limit: ACCOUNT_PICKER_LIMIT }, signal), []);
}

/**
 * Apps, a page at a time, optionally of one account and matching a search
 * of their names and ids (the API filters both, over every app; the search
 * is kept in the URL's hash); a form to create one.
 */
export function AppsPage() {
  const accounts = useAccounts();
  const [accountId, setAccountId] = useState('');
  const [search, setSearch] = useState(() => hashParam('q'));
  const q = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);
  const [creating, setCreating] = useState(false);
  const pager = useCursor();
  const apps = useLoad((signal) => get<ListPage<App>>('/apps', { account_id: accountId, q, cursor: pager.cursor }, signal), [accountId, q, pager.cursor]);
  useEffect(() => setHashParam('q', q), [q]);
  const accountName = (id: string) => accounts.data?.items.find((a) => a.id === id)?.name ?? id;
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
            placeholder="Search all apps by name or id"
            maxLength={SEARCH_MAX_LENGTH}
            value={search}
            onInput={(e) => {
              setSearch(e.currentTarget.value);
              // A cursor belongs to the search that made it.
              pager.reset();
            }}
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
              rows={data.items}
              rowKey={(a) => a.id}
              empty={q ? 'No app matches.' : 'No apps yet.'}
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
