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

// WebhookEvent is one event of a webhook body's "events", in Pusher's
// fields: which are set depends on Name (docs/webhooks.md, "Event kinds").
type WebhookEvent struct {
	Name    WebhookEventName `json:"name"`
	Channel string           `json:"channel"`
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
