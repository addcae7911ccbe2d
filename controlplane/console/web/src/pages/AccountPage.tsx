import { Page } from '../ui/Page';

export function AccountPage({ id }: { id: string }) {
  return (
    <Page title={id}>
      <p class="muted">Coming in the next commit.</p>
    </Page>
  );
}
