import { Page } from '../ui/Page';

export function UsagePage() {
  return (
    <Page title="Usage">
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
