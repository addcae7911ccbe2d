// The webhook objects of the admin API (docs/webhooks.md, "Admin API").

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  batch: boolean;
  enabled: boolean;
  channel_filter: string;
  headers: Record<string, string> | null;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
  failing_since: string | null;
}

export type DeliveryStatus = 'failed' | 'pending' | 'delivered';

export interface WebhookDelivery {
  id: string;
  created_at: string;
  event_count: number;
  attempts: number;
  status: DeliveryStatus;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

export interface WebhookTestResult {
  status_code: number;
  ok: boolean;
  error?: string;
  duration_ms: number;
}

/** The kinds an endpoint can receive (channels.WebhookEventNames). */
export const webhookEventNames = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss', 'subscription_count'];

/** What an endpoint receives when it names none: every kind but subscription_count. */
export const defaultWebhookEvents = webhookEventNames.filter((n) => n !== 'subscription_count');
