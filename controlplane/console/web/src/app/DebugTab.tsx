import type { AppTabProps } from './tabs';

/** Placeholder: A live log of this app's connections, subscriptions and messages, and an event creator. */
export function DebugTab({ app }: AppTabProps) {
  return (
    <div class="placeholder" data-testid="debug-tab" data-app={app.id}>
      <h2>Debug console</h2>
      <p class="muted">Coming soon.</p>
    </div>
  );
}
