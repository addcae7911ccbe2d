package herald

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Event is one event of a TriggerBatch.
type Event struct {
	Channel string
	Name    string
	// Data is rendered as Trigger renders it (encrypted on a
	// private-encrypted channel).
	Data any
	// SocketID excludes that connection from the delivery.
	SocketID string
	// Info asks for the channel's attributes (InfoUserCount,
	// InfoSubscriptionCount) in this item's result.
	Info []string
	// IdempotencyKey makes this item retry-safe on its own.
	IdempotencyKey string
}

// BatchResult is what one event of a batch got.
type BatchResult struct {
	// Serials holds the serial of the event's message on its channel.
	Serials map[string]uint64 `json:"serials"`
	// UserCount and SubscriptionCount are the channel's attributes, as
	// asked with Event.Info.
	UserCount         int `json:"user_count,omitempty"`
	SubscriptionCount int `json:"subscription_count,omitempty"`
}

// batchItem is one item of the body of POST /apps/{id}/batch_events.
type batchItem struct {
	Name           string `json:"name"`
	Data           string `json:"data"`
	Channel        string `json:"channel"`
	SocketID       string `json:"socket_id,omitempty"`
	Info           string `json:"info,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// errBatchOption is an option TriggerBatch has no use for.
var errBatchOption = errors.New("herald: TriggerBatch takes only WithIdempotencyKey; set SocketID and Info per Event")

// TriggerBatch publishes events in one request (at most 10, the server's
// limit) and returns their results in order. The batch is retried when it
// is retry-safe: WithIdempotencyKey (the request's Idempotency-Key, from
// which the server derives each item's own key) or an IdempotencyKey on
// every event. A batch over a quota is refused whole.
func (c *Client) TriggerBatch(ctx context.Context, events []Event, opts ...TriggerOption) ([]BatchResult, error) {
	var o triggerOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.socketID != "" || o.info != nil {
		return nil, errBatchOption
	}
	items := make([]batchItem, len(events))
	allKeyed := len(events) > 0
	for i, e := range events {
		data, err := c.eventData([]string{e.Channel}, e.Data)
		if err != nil {
			return nil, err
		}
		items[i] = batchItem{Name: e.Name, Data: data, Channel: e.Channel, SocketID: e.SocketID,
			Info: strings.Join(e.Info, ","), IdempotencyKey: e.IdempotencyKey}
		allKeyed = allKeyed && e.IdempotencyKey != ""
	}
	r := request{method: http.MethodPost, segments: []string{"batch_events"},
		body: map[string]any{"batch": items}, idempotent: allKeyed}
	if o.idempotencyKey != "" {
		r.header = http.Header{IdempotencyKeyHeader: {o.idempotencyKey}}
		r.idempotent = true
	}
	var res struct {
		Batch []BatchResult `json:"batch"`
	}
	if err := c.do(ctx, r, &res); err != nil {
		return nil, err
	}
	return res.Batch, nil
}
