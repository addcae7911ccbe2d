import { Page } from '../ui/Page';

export function PlansPage() {
  return (
    <Page title="Plans">
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
