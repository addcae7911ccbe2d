import { get, type ListPage } from '../api';
import { fmtTime } from '../format';
import { useLoad } from '../hooks';
import type { AuditEntry } from '../types';
import { LoadedView } from '../ui/LoadedView';
import { Page } from '../ui/Page';
import { Pager, useCursor } from '../ui/Pager';
import { Table } from '../ui/Table';

/** The audit log of admin actions, newest first, a page at a time. */
export function AuditPage() {
  const pager = useCursor();
  const audit = useLoad((signal) => get<ListPage<AuditEntry>>('/audit', { cursor: pager.cursor }, signal), [pager.cursor]);
  return (
    <Page
      title="Audit log"
      sub="Every change made through the admin API: who, what, when. Secrets are never recorded."
      actions={
        <button type="button" class="btn" onClick={() => (pager.page === 1 ? audit.reload() : pager.reset())} data-testid="audit-refresh">
          Refresh
        </button>
      }
    >
      <LoadedView value={audit}>
        {(data) => (
          <>
            <Table
              testId="audit"
              caption="Audit log"
              rows={data.items}
              rowKey={(e) => e.id}
              empty="Nothing recorded yet."
              columns={[
                { label: 'When', nowrap: true, render: (e) => fmtTime(e.at) },
                { label: 'Actor', nowrap: true, render: (e) => <code>{e.actor}</code> },
                { label: 'Action', nowrap: true, render: (e) => <strong>{e.action}</strong> },
                { label: 'Target', nowrap: true, render: (e) => <code>{e.target}</code> },
                {
                  label: 'Details',
                  render: (e) => (e.details === undefined || e.details === null ? '' : <code class="details">{JSON.stringify(e.details)}</code>),
                },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadedView>
    </Page>
  );
}
