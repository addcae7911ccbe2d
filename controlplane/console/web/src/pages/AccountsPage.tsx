import { useState } from 'preact/hooks';

import { get, type ListPage, post } from '../api';
import { fmtTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { href, navigate } from '../router';
import type { Account } from '../types';
import { ErrorBox } from '../ui/ErrorBox';
import { formError, TextField } from '../ui/Field';
import { LoadedView } from '../ui/LoadedView';
import { Page } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';
import { usePlanNames } from './plans';

/** Accounts, a page at a time, and a form to create one. */
export function AccountsPage() {
  const pager = useCursor();
  const accounts = useLoad((signal) => get<ListPage<Account>>('/accounts', { cursor: pager.cursor }, signal), [pager.cursor]);
  const planName = usePlanNames();
  return (
    <Page title="Accounts" sub="An account owns apps and is on a plan that sets its limits.">
      <CreateAccount />
      <LoadedView value={accounts}>
        {(data) => (
          <>
            <Table
              testId="accounts"
              caption="Accounts"
              rows={data.items}
              rowKey={(a) => a.id}
              empty="No accounts yet."
              columns={[
                { label: 'Name', render: (a) => <a href={href('accounts', a.id)}>{a.name}</a> },
                { label: 'ID', nowrap: true, render: (a) => <code>{a.id}</code> },
                { label: 'Plan', render: (a) => planName(a.plan_id) },
                { label: 'Created', nowrap: true, render: (a) => fmtTime(a.created_at) },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadedView>
    </Page>
  );
}

function CreateAccount() {
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const a = await run(() => post<Account>('/accounts', { name }));
    if (a) navigate('accounts', a.id);
  };
  return (
    <form class="card inline-form create" onSubmit={submit} data-testid="create-account-form" noValidate>
      <TextField label="New account name" name="name" value={name} onValue={setName} error={error} testId="account-name" />
      <button type="submit" class="btn primary" disabled={busy} data-testid="create-account">
        Create account
      </button>
      <ErrorBox error={formError(error, ['name'])} />
    </form>
  );
}
