import { Page } from '../ui/Page';

export function AppsPage() {
  return (
    <Page title="Apps">
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
