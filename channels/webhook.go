package channels

import "slices"

// WebhookEventName is a kind of webhook event (docs/webhooks.md), as
// Pusher names it in a webhook body's events.
type WebhookEventName string

// The event kinds an endpoint can receive.
const (
	WebhookChannelOccupied   WebhookEventName = "channel_occupied"
	WebhookChannelVacated    WebhookEventName = "channel_vacated"
	WebhookMemberAdded       WebhookEventName = "member_added"
	WebhookMemberRemoved     WebhookEventName = "member_removed"
	WebhookClientEvent       WebhookEventName = "client_event"
	WebhookCacheMiss         WebhookEventName = "cache_miss"
	WebhookSubscriptionCount WebhookEventName = "subscription_count"
)

// WebhookEventNames lists every kind an endpoint can subscribe to.
func WebhookEventNames() []WebhookEventName {
	return []WebhookEventName{
		WebhookChannelOccupied, WebhookChannelVacated, WebhookMemberAdded, WebhookMemberRemoved,
		WebhookClientEvent, WebhookCacheMiss, WebhookSubscriptionCount,
	}
}

// DefaultWebhookEventNames are the kinds an endpoint that names none
// receives: every kind but subscription_count, which is opt-in.
func DefaultWebhookEventNames() []WebhookEventName {
	all := WebhookEventNames()
	out := all[:0:0]
	for _, n := range all {
		if n != WebhookSubscriptionCount {
			out = append(out, n)
		}
	}
	return out
}

// Valid reports whether n is a known kind.
func (n WebhookEventName) Valid() bool {
	return slices.Contains(WebhookEventNames(), n)
}

// The operator event kinds (docs/webhooks.md, "Operator webhooks"): an
// account used 80% of a quota of its plan (warning), all of it (reached:
// at the limit), or more (exceeded: past the limit). Only operator
// endpoints receive them, and receive nothing else.
const (
	WebhookQuotaWarning  WebhookEventName = "quota_warning"
	WebhookQuotaReached  WebhookEventName = "quota_reached"
	WebhookQuotaExceeded WebhookEventName = "quota_exceeded"
)

// OperatorWebhookEventNames lists every kind an operator endpoint
// receives.
func OperatorWebhookEventNames() []WebhookEventName {
	return []WebhookEventName{WebhookQuotaWarning, WebhookQuotaReached, WebhookQuotaExceeded}
}

// Operator reports whether n is an operator event kind.
func (n WebhookEventName) Operator() bool {
	return slices.Contains(OperatorWebhookEventNames(), n)
}

// WebhookEvent is one event of a webhook body's "events", in Pusher's
// fields: which are set depends on Name (docs/webhooks.md, "Event kinds").
type WebhookEvent struct {
	Name WebhookEventName `json:"name"`
	// Channel: every app event (operator events have none).
	Channel string `json:"channel,omitempty"`
	// UserID: member_added, member_removed, and client_event on a
	// presence channel.
	UserID string `json:"user_id,omitempty"`
	// Event, Data and SocketID: client_event; Data is the client's data
	// as the string it published.
	Event    string `json:"event,omitempty"`
	Data     string `json:"data,omitempty"`
	SocketID string `json:"socket_id,omitempty"`
	// SubscriptionCount: subscription_count (a pointer: 0 is a count).
	SubscriptionCount *int64 `json:"subscription_count,omitempty"`
	// The fields of quota_warning, quota_reached and quota_exceeded: the
	// account, the plan limit crossed (max_messages_per_day, …), the
	// threshold (percent), the start (UTC, RFC 3339) of the day or month
	// the quota is of, the limit and the use that crossed it.
	AccountID   string `json:"account_id,omitempty"`
	Plan        string `json:"plan,omitempty"`
	Quota       string `json:"quota,omitempty"`
	Threshold   int    `json:"threshold,omitempty"`
	Enforcement string `json:"enforcement,omitempty"`
	Period      string `json:"period,omitempty"`
	Limit       int64  `json:"limit,omitempty"`
	Used        int64  `json:"used,omitempty"`
}

// WebhookEnvelope is a webhook event on its way from where it happened
// (a gateway, or the control plane for a dead gateway's channels) to the
// webhook dispatcher, through the HERALD_WEBHOOK_EVENTS stream
// (bus/webhookevents).
type WebhookEnvelope struct {
	AppID string `json:"app_id"`
	// TimeMS is when the event happened, Unix milliseconds.
	TimeMS int64        `json:"time_ms"`
	Event  WebhookEvent `json:"event"`
}
