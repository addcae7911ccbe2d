import type { AppTabProps } from './tabs';

/** Placeholder: Browse a channel's message history. */
export function HistoryTab({ app }: AppTabProps) {
  return (
    <div class="placeholder" data-testid="history-tab" data-app={app.id}>
      <h2>History</h2>
      <p class="muted">Coming soon.</p>
    </div>
  );
}
