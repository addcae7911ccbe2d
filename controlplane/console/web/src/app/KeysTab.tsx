import { useState } from 'preact/hooks';

import { del, get, type ListPage, post, seg } from '../api';
import { fmtTime } from '../format';
import { useAction, useLoad } from '../hooks';
import type { AppKey } from '../types';
import { ConfirmButton } from '../ui/ConfirmButton';
import { CopyButton } from '../ui/CopyButton';
import { ErrorBox } from '../ui/ErrorBox';
import { LoadedView } from '../ui/LoadedView';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';
import type { AppTabProps } from './tabs';

/**
 * An app's keys: create one (its secret is shown once, in this page's
 * memory only: a reload loses it, as the API never shows it again) and
 * revoke one.
 */
export function KeysTab({ app }: AppTabProps) {
  const pager = useCursor();
  const keys = useLoad((signal) => get<ListPage<AppKey>>(`/apps/${seg(app.id)}/keys`, { cursor: pager.cursor }, signal), [app.id, pager.cursor]);
  const [created, setCreated] = useState<AppKey | undefined>(undefined);
  const { busy, error, run } = useAction();
  const create = async () => {
    const k = await run(() => post<AppKey>(`/apps/${seg(app.id)}/keys`));
    if (k) {
      setCreated(k);
      keys.reload();
    }
  };
  const revoke = async (key: string) => {
    if (!(await run(async () => (await del(`/apps/${seg(app.id)}/keys/${seg(key)}`), true)))) return;
    if (created?.key === key) setCreated(undefined);
    keys.reload();
  };
  return (
    <div class="stack">
      <div class="toolbar">
        <p class="muted">Clients connect with a key; servers sign with its secret.</p>
        <button type="button" class="btn primary" onClick={create} disabled={busy} data-testid="create-key">
          Create key
        </button>
      </div>
      <ErrorBox error={error} />
      {created?.secret && (
        <div class="card secret" role="status" data-testid="new-secret">
          <h3>New key created</h3>
          <p>Copy the secret now: it is not shown again, not even after a reload.</p>
          <dl class="kv">
            <dt>Key</dt>
            <dd>
              <code data-testid="new-key">{created.key}</code> <CopyButton text={created.key} label="Copy key" />
            </dd>
            <dt>Secret</dt>
            <dd>
              <code data-testid="secret-value">{created.secret}</code> <CopyButton text={created.secret} label="Copy secret" testId="copy-secret" />
            </dd>
          </dl>
          <button type="button" class="btn small" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      )}
      <LoadedView value={keys}>
        {(data) => (
          <>
            <Table
              testId="keys"
              caption="Keys"
              rows={data.items}
              rowKey={(k) => k.key}
              empty="No keys: clients cannot connect."
              columns={[
                { label: 'Key', nowrap: true, render: (k) => <code>{k.key}</code> },
                { label: 'Created', nowrap: true, render: (k) => fmtTime(k.created_at) },
                {
                  label: 'State',
                  render: (k) => (k.revoked_at ? <span class="badge off">Revoked {fmtTime(k.revoked_at)}</span> : <span class="badge ok">Active</span>),
                },
                {
                  label: 'Actions',
                  render: (k) =>
                    !k.revoked_at && (
                      <ConfirmButton
                        question={`Revoke ${k.key}? Its connections close.`}
                        confirmLabel="Revoke"
                        onConfirm={() => revoke(k.key)}
                        testId={`revoke-${k.key}`}
                      >
                        Revoke
                      </ConfirmButton>
                    ),
                },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadedView>
    </div>
  );
}
