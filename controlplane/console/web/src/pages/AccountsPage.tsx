import { Page } from '../ui/Page';

export function AccountsPage() {
  return (
    <Page title="Accounts">
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
