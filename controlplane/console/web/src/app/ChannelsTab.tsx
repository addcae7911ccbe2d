import type { AppTabProps } from './tabs';

/** Placeholder: The occupied channels of this app with their subscription counts and presence members. */
export function ChannelsTab({ app }: AppTabProps) {
  return (
    <div class="placeholder" data-testid="channels-tab" data-app={app.id}>
      <h2>Channels</h2>
      <p class="muted">Coming soon.</p>
    </div>
  );
}
