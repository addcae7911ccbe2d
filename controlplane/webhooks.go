package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/heraldhq/herald/channels"
)

// WebhookEndpoint is one of an app's webhook endpoints, or an operator
// endpoint (docs/webhooks.md).
type WebhookEndpoint struct {
	ID string `json:"id"`
	// AppID is empty for an operator endpoint.
	AppID string `json:"app_id,omitempty"`
	// Key is an operator endpoint's signing key (X-Pusher-Key); app
	// endpoints sign with their app's oldest live key.
	Key    string                      `json:"key,omitempty"`
	URL    string                      `json:"url"`
	Events []channels.WebhookEventName `json:"events"`
	// Batch sends up to MaxWebhookBatch events per request, at most one
	// request per second.
	Batch   bool `json:"batch"`
	Enabled bool `json:"enabled"`
	// ChannelFilter is a '*' pattern (channels.MatchPattern); empty
	// matches every channel.
	ChannelFilter string `json:"channel_filter"`
	// Headers are extra static request headers.
	Headers   map[string]string `json:"headers"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	// DisabledAt is set when the dispatcher disabled the endpoint because
	// it failed every delivery for the auto-disable period.
	DisabledAt *time.Time `json:"disabled_at"`
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time `json:"failing_since"`
}

// Wants reports whether the endpoint receives e.
func (w WebhookEndpoint) Wants(e channels.WebhookEvent) bool {
	if !w.Enabled {
		return false
	}
	if w.ChannelFilter != "" && !channels.MatchPattern(w.ChannelFilter, e.Channel) {
		return false
	}
	for _, n := range w.Events {
		if n == e.Name {
			return true
		}
	}
	return false
}

// NewWebhookEndpoint is the input of CreateWebhookEndpoint, validated by
// the caller (the admin API).
type NewWebhookEndpoint struct {
	URL           string
	Events        []channels.WebhookEventName
	Batch         bool
	Enabled       bool
	ChannelFilter string
	Headers       map[string]string
	// MaxEndpoints caps the app's endpoints, this one included; 0 means
	// unlimited.
	MaxEndpoints int64
}

// WebhookEndpointPatch changes an endpoint; nil fields are unchanged.
type WebhookEndpointPatch struct {
	URL           *string
	Events        *[]channels.WebhookEventName
	Batch         *bool
	Enabled       *bool
	ChannelFilter *string
	Headers       *map[string]string
}

// WebhookDeliveryStatus is where a delivery stands.
type WebhookDeliveryStatus string

// Delivery statuses.
const (
	WebhookPending   WebhookDeliveryStatus = "pending"
	WebhookDelivered WebhookDeliveryStatus = "delivered"
	WebhookFailed    WebhookDeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s WebhookDeliveryStatus) Valid() bool {
	return s == WebhookPending || s == WebhookDelivered || s == WebhookFailed
}

// WebhookDelivery is one entry of an endpoint's delivery log.
type WebhookDelivery struct {
	ID         string    `json:"id"`
	EndpointID string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	EventCount int       `json:"event_count"`
	// Attempts counts the HTTP requests made, the successful one included.
	Attempts       int                   `json:"attempts"`
	Status         WebhookDeliveryStatus `json:"status"`
	LastStatusCode *int                  `json:"last_status_code"`
	LastError      *string               `json:"last_error"`
	NextAttemptAt  *time.Time            `json:"next_attempt_at"`
	DeliveredAt    *time.Time            `json:"delivered_at"`
}

// WebhookDeliveryQuery selects a page of an endpoint's delivery log,
// newest first.
type WebhookDeliveryQuery struct {
	AppID, EndpointID string
	// Status, when not empty, keeps only deliveries in it.
	Status WebhookDeliveryStatus
	Page   Page
}

// WebhookQueued is an event matched to an endpoint, waiting to be cut
// into a delivery.
type WebhookQueued struct {
	EndpointID string
	// StreamSeq is the event's sequence in HERALD_WEBHOOK_EVENTS: the same
	// event queued twice for one endpoint is stored once.
	StreamSeq uint64
	// Event is the event's JSON, as it goes into a body's "events".
	Event json.RawMessage
}

// WebhookSend is a delivery about to be attempted.
type WebhookSend struct {
	ID, EndpointID, AppID, URL string
	Headers                    map[string]string
	Batch                      bool
	Body                       []byte
	Attempts                   int
	// WindowStart starts the retry window: creation or redelivery.
	WindowStart time.Time
	// Due: the delivery may be attempted now; otherwise it waits for its
	// next attempt and holds back the endpoint's later deliveries.
	Due bool
	// WaitFor, when there is no delivery, is how long queued events of a
	// batch endpoint still wait for the gap after its last request.
	WaitFor time.Duration
}

// WebhookNext asks for an endpoint's next delivery.
type WebhookNext struct {
	EndpointID, Owner string
	// Lease is how long the owner keeps the endpoint from now.
	Lease time.Duration
	// MaxEvents is how many queued events one new delivery of a batch
	// endpoint takes; other endpoints' deliveries carry one.
	MaxEvents int
	// MinGap is the least time between two requests to the endpoint
	// (batch endpoints).
	MinGap time.Duration
	// Floor is the webhook consumer's ack floor: every event at or below
	// this stream sequence is queued (or needed no endpoint), so queued
	// events up to it can be cut in stream order; above it an earlier
	// event may still be in flight.
	Floor uint64
}

// WebhookAttempt is the outcome of one request, and what it decides.
type WebhookAttempt struct {
	DeliveryID, EndpointID string
	At                     time.Time
	Duration               time.Duration
	// StatusCode is 0 when no answer came.
	StatusCode int
	// Error describes a failure in a few words, never a secret.
	Error string
	// Status is the delivery's new status; while it stays pending the
	// next attempt is due RetryIn from now (the database's clock).
	Status  WebhookDeliveryStatus
	RetryIn time.Duration
	// DisableAfter disables the endpoint when this attempt failed and it
	// has failed every attempt for at least this long; 0 never does.
	DisableAfter time.Duration
}

// WebhookAttemptResult says what recording an attempt changed.
type WebhookAttemptResult struct {
	// Disabled: the endpoint was disabled automatically.
	Disabled bool
	AppID    string
}

// WebhookStore keeps webhook endpoints and deliveries.
type WebhookStore interface {
	// CreateWebhookEndpoint fails with ErrBadRequest (field "url") when
	// the app already has in.MaxEndpoints endpoints.
	CreateWebhookEndpoint(ctx context.Context, appID string, in NewWebhookEndpoint) (WebhookEndpoint, error)
	GetWebhookEndpoint(ctx context.Context, appID, id string) (WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context, appID string) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint applies patch; disabling an endpoint fails its
	// pending deliveries and records each of its queued events as a
	// failed delivery, which can be redelivered once it is enabled again.
	UpdateWebhookEndpoint(ctx context.Context, appID, id string, patch WebhookEndpointPatch) (WebhookEndpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, appID, id string) error
	ListWebhookDeliveries(ctx context.Context, q WebhookDeliveryQuery) (items []WebhookDelivery, next string, err error)
	// RedeliverWebhook makes a delivery pending again, due now, with a
	// new retry window; its body and id stay. A delivery of a disabled
	// endpoint is a Conflict.
	RedeliverWebhook(ctx context.Context, appID, endpointID, deliveryID string) error
}

// ErrWebhookLeaseLost is returned to a dispatcher whose hold on an
// endpoint passed to another: it must stop sending for it.
var ErrWebhookLeaseLost = errors.New("webhook endpoint lease lost")

// MaxWebhookBatch is the most events one batched request carries.
const MaxWebhookBatch = 100

// WebhookBody is the exact body of a webhook request: Pusher's
// {"time_ms":…,"events":[…]} with events already encoded.
func WebhookBody(timeMS int64, events []json.RawMessage) []byte {
	n := 32
	for _, e := range events {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"time_ms":`...)
	b = strconv.AppendInt(b, timeMS, 10)
	b = append(b, `,"events":[`...)
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, "]}"...)
}
