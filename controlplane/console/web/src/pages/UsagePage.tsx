import { get, type ListPage } from '../api';
import { useLoad } from '../hooks';
import { navigate } from '../router';
import type { Account, App } from '../types';
import { ErrorBox } from '../ui/ErrorBox';
import { Page } from '../ui/Page';
import { UsageView } from '../usage/UsageView';

/** The most apps or accounts the picker lists (the API's largest page). */
const PICKER_LIMIT = 500;

type Kind = 'apps' | 'accounts';

/**
 * Usage of one app or one account (#/usage/<apps|accounts>/<id>); the
 * picker on top changes the route.
 */
export function UsagePage({ kind = 'apps', id }: { kind?: string; id?: string }) {
  const k: Kind = kind === 'accounts' ? 'accounts' : 'apps';
  const list = useLoad((signal) => get<ListPage<App | Account>>(`/${k}`, { limit: PICKER_LIMIT }, signal), [k]);
  const items = list.data?.items ?? [];
  const current = id ?? items[0]?.id;
  return (
    <Page title="Usage" sub="Messages, connections and bytes per hour or day, as the usage API reports them (UTC).">
      <div class="card toolbar picker">
        <div class="field">
          <label for="usage-kind">Usage of</label>
          <select id="usage-kind" value={k} onChange={(e) => navigate('usage', e.currentTarget.value)} data-testid="usage-kind">
            <option value="apps">An app</option>
            <option value="accounts">An account</option>
          </select>
        </div>
        <div class="field grow">
          <label for="usage-target">{k === 'apps' ? 'App' : 'Account'}</label>
          <select
            id="usage-target"
            value={current ?? ''}
            onChange={(e) => navigate('usage', k, e.currentTarget.value)}
            data-testid="usage-target"
            disabled={items.length === 0}
          >
            {id && !items.some((i) => i.id === id) && <option value={id}>{id}</option>}
            {items.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name} ({i.id})
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.data && !current && <p class="muted">There are no {k} yet.</p>}
      {current && <UsageView scope={{ kind: k, id: current }} key={`${k}/${current}`} />}
    </Page>
  );
}
