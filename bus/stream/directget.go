package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Direct Get API subjects (nats-server jetstream_api.go). Every replica of
// a stream with AllowDirect answers them, bypassing the JetStream API
// queue.
const (
	directGetPrefix = "$JS.API.DIRECT.GET."
)

// getRequest is the body of a Direct Get request (nats-server
// JSApiMsgGetRequest). nats.go v1.55 has no call for batched gets.
type getRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	MaxBytes  int        `json:"max_bytes,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
}

// getBatch sends one batched Direct Get and passes each returned message
// to fn, in stream order, until the server's end-of-batch marker, a 404
// (nothing matched), or fn returns false. pending is the server's count of
// matching messages after the batch (valid when fn never returned false).
// It takes at most the Reader's Timeout.
func (r *Reader) getBatch(ctx context.Context, req getRequest, fn func(*nats.Msg) bool) (pending uint64, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()

	// A fresh inbox per request: replies of an abandoned batch cannot leak
	// into the next one. Its channel holds a whole answer (the messages and
	// the end-of-batch marker), so the server is never held up; a
	// subscription's default buffer would allocate 64k slots per request.
	inbox := r.cfg.NC.NewInbox()
	ch := make(chan *nats.Msg, max(req.Batch, 1)+1)
	sub, err := r.cfg.NC.ChanSubscribe(inbox, ch)
	if err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := r.cfg.NC.PublishRequest(r.getSubject, inbox, body); err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			return 0, fmt.Errorf("direct get: %w", ctx.Err())
		}
		if status := first(m.Header, headerStatus); status != "" && len(m.Data) == 0 {
			return batchStatus(m, status)
		}
		if !fn(m) {
			return 0, nil
		}
	}
}

// batchStatus interprets a status reply that ends a batch.
func batchStatus(m *nats.Msg, status string) (pending uint64, err error) {
	switch status {
	case statusEndOfBatch:
		v := first(m.Header, headerNumPending)
		np, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("direct get: %w: bad %s %q", ErrMalformed, headerNumPending, v)
		}
		return np, nil
	case statusNotFound:
		return 0, nil
	case statusNoResponders:
		return 0, fmt.Errorf("direct get: %w", nats.ErrNoResponders)
	default:
		return 0, fmt.Errorf("direct get: status %s %s", status, first(m.Header, headerDescription))
	}
}
