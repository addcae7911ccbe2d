import { Page } from '../ui/Page';

export function AuditPage() {
  return (
    <Page title="Audit">
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
