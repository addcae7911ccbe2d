package herald

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Directions of a history read.
const (
	// Backwards reads newest first (the server's default).
	Backwards = "backwards"
	// Forwards reads oldest first.
	Forwards = "forwards"
)

// HistoryOptions narrow a history read; the zero value reads every
// message kept, newest first, 100 per page.
type HistoryOptions struct {
	// PageSize is how many messages each request fetches, 1 to 1000; 0:
	// the server's default (100).
	PageSize int
	// Direction is Backwards ("", the default) or Forwards.
	Direction string
	// Start and End bound when the messages were published (inclusive, to
	// the millisecond); zero: unbounded.
	Start, End time.Time
	// FromSerial, when not 0, starts after that serial in the read's
	// direction (a subscriber's last serial, to fill a gap).
	FromSerial uint64
}

// Message is a message of a channel's history.
type Message struct {
	// Serial is the message's position in the app's stream (app-wide: a
	// channel's serials increase with gaps).
	Serial uint64 `json:"serial"`
	Event  string `json:"event"`
	// Data is the event's data as published (on a private-encrypted
	// channel, the encrypted payload: DecryptData opens it).
	Data          string `json:"data"`
	PublishedAtMs int64  `json:"published_at_ms"`
	// UserID is the sender of a client event on a presence channel.
	UserID string `json:"user_id,omitempty"`
}

// PublishedAt is when the message was published.
func (m Message) PublishedAt() time.Time { return time.UnixMilli(m.PublishedAtMs) }

// historyPage is the answer of GET /apps/{id}/channels/{name}/messages.
type historyPage struct {
	Items []Message `json:"items"`
	Next  *string   `json:"next"`
}

// History reads a channel's messages in serial order, fetching pages as
// the loop asks for more: stopping the loop stops the reads. A failed
// request (after the retries of RetryPolicy) ends the sequence with its
// error.
//
//	for msg, err := range client.History(ctx, "chat", herald.HistoryOptions{}) {
//		if err != nil { … }
//		…
//	}
func (c *Client) History(ctx context.Context, channel string, opts HistoryOptions) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		q := opts.query()
		for {
			var page historyPage
			err := c.do(ctx, request{method: http.MethodGet, segments: []string{"channels", channel, "messages"},
				query: q, idempotent: true}, &page)
			if err != nil {
				yield(Message{}, err)
				return
			}
			for _, m := range page.Items {
				if !yield(m, nil) {
					return
				}
			}
			if page.Next == nil || len(page.Items) == 0 {
				return
			}
			// The cursor goes with the other parameters unchanged.
			q.Set("cursor", *page.Next)
		}
	}
}

func (o HistoryOptions) query() url.Values {
	q := url.Values{}
	if o.PageSize > 0 {
		q.Set("limit", strconv.Itoa(o.PageSize))
	}
	if o.Direction != "" {
		q.Set("direction", o.Direction)
	}
	if !o.Start.IsZero() {
		q.Set("start", strconv.FormatInt(o.Start.UnixMilli(), 10))
	}
	if !o.End.IsZero() {
		q.Set("end", strconv.FormatInt(o.End.UnixMilli(), 10))
	}
	if o.FromSerial > 0 {
		q.Set("from_serial", strconv.FormatUint(o.FromSerial, 10))
	}
	return q
}
