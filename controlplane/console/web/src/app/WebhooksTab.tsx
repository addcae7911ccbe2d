import type { AppTabProps } from './tabs';

/** Placeholder: Webhook endpoints and their delivery log. */
export function WebhooksTab({ app }: AppTabProps) {
  return (
    <div class="placeholder" data-testid="webhooks-tab" data-app={app.id}>
      <h2>Webhooks</h2>
      <p class="muted">Coming soon.</p>
    </div>
  );
}
