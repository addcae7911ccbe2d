import type { ComponentChildren } from 'preact';

import { AppPage } from './app/AppPage';
import { AccountPage } from './pages/AccountPage';
import { AccountsPage } from './pages/AccountsPage';
import { AppsPage } from './pages/AppsPage';
import { AuditPage } from './pages/AuditPage';
import { NotFound } from './pages/NotFound';
import { PlansPage } from './pages/PlansPage';
import { UsagePage } from './pages/UsagePage';
import { href, useRoute } from './router';

/** The top navigation's sections, by the route's first part. */
const sections = [
  { id: 'accounts', label: 'Accounts' },
  { id: 'plans', label: 'Plans' },
  { id: 'apps', label: 'Apps' },
  { id: 'usage', label: 'Usage' },
  { id: 'audit', label: 'Audit' },
];

/** The page for a route. */
function routePage(route: string[]): ComponentChildren {
  const [section = 'apps', id, tab] = route;
  switch (section) {
    case 'accounts':
      return id ? <AccountPage id={id} key={id} /> : <AccountsPage />;
    case 'plans':
      return <PlansPage />;
    case 'apps':
      return id ? <AppPage id={id} tab={tab} key={id} /> : <AppsPage />;
    case 'usage':
      return <UsagePage kind={id} id={tab} key={`${id}/${tab}`} />;
    case 'audit':
      return <AuditPage />;
    default:
      return <NotFound />;
  }
}

/** The signed-in console: top bar, navigation, the routed page. */
export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const current = route[0] ?? 'apps';
  return (
    <div class="shell">
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href('apps')}>
          <span class="logo" aria-hidden="true" />
          Herald <span class="brand-sub">console</span>
        </a>
        <nav class="mainnav" aria-label="Main">
          {sections.map((s) => (
            <a key={s.id} href={href(s.id)} aria-current={current === s.id ? 'page' : undefined} data-testid={`nav-${s.id}`}>
              {s.label}
            </a>
          ))}
        </nav>
        <button type="button" class="btn ghost signout" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {routePage(route)}
      </main>
    </div>
  );
}
