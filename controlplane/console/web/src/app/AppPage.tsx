import { get, seg } from '../api';
import { useLoad } from '../hooks';
import { href } from '../router';
import type { App } from '../types';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading, Page } from '../ui/Page';
import { Tabs } from '../ui/Tabs';
import { appTabs } from './tabs';

/** One app: its name and state on top, then the registered tabs. */
export function AppPage({ id, tab }: { id: string; tab?: string }) {
  const app = useLoad((signal) => get<App>(`/apps/${seg(id)}`, undefined, signal), [id]);
  const current = appTabs.find((t) => t.id === tab) ?? appTabs[0];
  if (!app.data) {
    return <Page title={id}>{app.error ? <ErrorBox error={app.error} /> : <Loading />}</Page>;
  }
  const a = app.data;
  const Tab = current.component;
  return (
    <Page
      title={a.name}
      sub={
        <>
          <span class={a.enabled ? 'badge ok' : 'badge off'} data-testid="app-state">
            {a.enabled ? 'Enabled' : 'Disabled'}
          </span>{' '}
          id <code>{a.id}</code> · account <a href={href('accounts', a.account_id)}>{a.account_id}</a>
        </>
      }
      actions={
        <a class="btn" href={href('apps')}>
          All apps
        </a>
      }
    >
      <Tabs label="App sections" tabs={appTabs} current={current.id} route={(t) => ['apps', a.id, t]} />
      <div class="tabpanel" id="tabpanel" role="tabpanel" aria-labelledby={`tab-${current.id}`}>
        <Tab app={a} onAppChange={app.set} key={current.id} />
      </div>
    </Page>
  );
}
