package herald

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/heraldhq/herald/sdk/go/internal/sign"
)

// DefaultMaxWebhookBytes bounds a webhook body: a batch of 100 events
// with client event data fits.
const DefaultMaxWebhookBytes = 4 << 20

// Webhook request headers (docs/webhooks.md, "Format").
const (
	HeaderWebhookKey       = "X-Pusher-Key"
	HeaderWebhookSignature = "X-Pusher-Signature"
	HeaderWebhookDelivery  = "X-Herald-Delivery"
)

// Webhook event kinds (docs/webhooks.md, "Event kinds").
const (
	WebhookChannelOccupied   = "channel_occupied"
	WebhookChannelVacated    = "channel_vacated"
	WebhookMemberAdded       = "member_added"
	WebhookMemberRemoved     = "member_removed"
	WebhookClientEvent       = "client_event"
	WebhookCacheMiss         = "cache_miss"
	WebhookSubscriptionCount = "subscription_count"
	WebhookTest              = "webhook_test"
	// Operator endpoints' kinds: an account used 80% of a quota of its
	// plan, all of it (reached), or more (exceeded).
	WebhookQuotaWarning  = "quota_warning"
	WebhookQuotaReached  = "quota_reached"
	WebhookQuotaExceeded = "quota_exceeded"
)

// Refusals of VerifyWebhook; each is also ErrWebhook.
var (
	// ErrWebhook is what every refused webhook matches with errors.Is.
	ErrWebhook = errors.New("herald: webhook refused")
	// ErrWebhookKey: X-Pusher-Key is missing or not a key the client
	// knows.
	ErrWebhookKey = fmt.Errorf("%w: unknown %s", ErrWebhook, HeaderWebhookKey)
	// ErrWebhookSignature: X-Pusher-Signature does not match the body.
	ErrWebhookSignature = fmt.Errorf("%w: invalid %s", ErrWebhook, HeaderWebhookSignature)
	// ErrWebhookTooLarge: the body is over Config.MaxWebhookBytes.
	ErrWebhookTooLarge = fmt.Errorf("%w: body too large", ErrWebhook)
)

// WebhookEvent is one event of a webhook; which fields are set depends on
// Name (docs/webhooks.md).
type WebhookEvent struct {
	// Name is the kind (the Webhook constants).
	Name string `json:"name"`
	// Channel: every app event.
	Channel string `json:"channel,omitempty"`
	// UserID: member_added, member_removed, and client_event on a
	// presence channel.
	UserID string `json:"user_id,omitempty"`
	// Event, Data and SocketID: client_event.
	Event    string `json:"event,omitempty"`
	Data     string `json:"data,omitempty"`
	SocketID string `json:"socket_id,omitempty"`
	// SubscriptionCount: subscription_count.
	SubscriptionCount int64 `json:"subscription_count,omitempty"`
	// Operator events (quota_warning, quota_reached, quota_exceeded).
	AccountID   string `json:"account_id,omitempty"`
	Plan        string `json:"plan,omitempty"`
	Quota       string `json:"quota,omitempty"`
	Threshold   int    `json:"threshold,omitempty"`
	Enforcement string `json:"enforcement,omitempty"`
	Period      string `json:"period,omitempty"`
	Limit       int64  `json:"limit,omitempty"`
	Used        int64  `json:"used,omitempty"`

	// Time is when Herald created the delivery (the body's time_ms).
	Time time.Time `json:"-"`
	// DeliveryID is X-Herald-Delivery: the same on every retry, so a
	// receiver can drop duplicates.
	DeliveryID string `json:"-"`
}

// VerifyWebhook reads a webhook request's body (at most
// Config.MaxWebhookBytes), checks X-Pusher-Signature, the HMAC-SHA256 of
// the body under the secret of X-Pusher-Key (the client's key or one of
// Config.WebhookKeys), in constant time, and returns its events. A refusal
// matches ErrWebhook; answer it 401 and do not act on it.
func (c *Client) VerifyWebhook(r *http.Request) ([]WebhookEvent, error) {
	if r.Body == nil {
		return nil, fmt.Errorf("%w: no body", ErrWebhook)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, c.cfg.MaxWebhookBytes+1))
	if err != nil {
		return nil, fmt.Errorf("herald: read webhook: %w", err)
	}
	if int64(len(body)) > c.cfg.MaxWebhookBytes {
		return nil, ErrWebhookTooLarge
	}
	key := r.Header.Get(HeaderWebhookKey)
	secret, ok := c.webhookSecret(key)
	if !ok {
		return nil, ErrWebhookKey
	}
	if !sign.Equal(secret, body, r.Header.Get(HeaderWebhookSignature)) {
		return nil, ErrWebhookSignature
	}
	var w struct {
		TimeMs int64          `json:"time_ms"`
		Events []WebhookEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: body is not a webhook: %v", ErrWebhook, err)
	}
	delivery := r.Header.Get(HeaderWebhookDelivery)
	for i := range w.Events {
		w.Events[i].Time = time.UnixMilli(w.TimeMs)
		w.Events[i].DeliveryID = delivery
	}
	return w.Events, nil
}

func (c *Client) webhookSecret(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	if key == c.cfg.Key {
		return c.cfg.Secret, true
	}
	s, ok := c.cfg.WebhookKeys[key]
	return s, ok
}
