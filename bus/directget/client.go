package directget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// APIPrefix starts the Direct Get subject of every stream
// (nats-server jetstream_api.go).
const APIPrefix = "$JS.API.DIRECT.GET."

// MaxMultiLast is the most messages the server returns for one
// multi_last request (nats-server's maxAllowedResponses); a request that
// matches more subjects is refused with a 413.
const MaxMultiLast = 1024

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// ErrMalformed marks a reply whose server headers do not parse.
var ErrMalformed = errors.New("malformed direct get reply")

// Subject is the Direct Get subject of stream.
func Subject(stream string) string { return APIPrefix + stream }

// Request is the body of a Direct Get request (nats-server
// JSApiMsgGetRequest), the fields Herald uses. Batch or MultiLast must be
// set: a plain single get has no end-of-batch marker.
type Request struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	MaxBytes  int        `json:"max_bytes,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	MultiLast []string   `json:"multi_last,omitempty"`
}

// answerSize is how many messages an answer to req holds at most: the
// stored messages and the status that ends them.
func (req *Request) answerSize() int {
	n := max(req.Batch, 1)
	if len(req.MultiLast) > 0 {
		n = MaxMultiLast
		if req.Batch > 0 {
			n = min(req.Batch, MaxMultiLast)
		}
	}
	return n + 1
}

// Client sends Direct Get requests for one stream. It is safe for
// concurrent use and holds no goroutine.
type Client struct {
	nc      *nats.Conn
	subject string
	timeout time.Duration
}

// New returns a Client of stream on nc whose requests each take at most
// timeout (zero: DefaultTimeout).
func New(nc *nats.Conn, stream string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{nc: nc, subject: Subject(stream), timeout: timeout}
}

// Subject is the Direct Get subject of the client's stream.
func (c *Client) Subject() string { return c.subject }

// Get sends one request and passes each returned message to fn, in
// stream order, until the end-of-batch status, a 404 (nothing matched)
// or fn returns false. pending is the server's count of matching
// messages after the batch (valid when fn never returned false). A
// request that reaches no server fails with an error wrapping
// nats.ErrNoResponders: the stream does not exist, or no replica is up.
func (c *Client) Get(ctx context.Context, req Request, fn func(*nats.Msg) bool) (pending uint64, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// A fresh inbox per request: replies of an abandoned batch cannot
	// leak into the next one.
	var ib inbox
	if err := ib.subscribe(c, req.answerSize()); err != nil {
		return 0, err
	}
	defer ib.close()
	return ib.exchange(ctx, body, fn)
}

// Scan passes to fn, in stream order, every stored message whose subject
// matches req.NextFor from sequence req.Seq on, in batches of req.Batch,
// until nothing matching is pending. Each batch takes at most the
// client's timeout. The batches are not one atomic snapshot: a message
// stored meanwhile may or may not be seen.
func (c *Client) Scan(ctx context.Context, req Request, fn func(*nats.Msg)) error {
	if req.NextFor == "" || req.Batch <= 0 || len(req.MultiLast) > 0 {
		return errors.New("direct get scan: needs a subject filter and a batch size")
	}
	var ib inbox
	if err := ib.subscribe(c, req.answerSize()); err != nil {
		return err
	}
	defer ib.close()
	var bad error
	var last uint64
	each := func(m *nats.Msg) bool {
		v := First(m.Header, HeaderSequence)
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			bad = fmt.Errorf("direct get: %w: bad %s %q", ErrMalformed, HeaderSequence, v)
			return false
		}
		last = seq
		fn(m)
		return true
	}
	for {
		body, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("direct get: %w", err)
		}
		last = 0
		bctx, cancel := context.WithTimeout(ctx, c.timeout)
		pending, err := ib.exchange(bctx, body, each)
		cancel()
		switch {
		case bad != nil:
			return bad
		case err != nil:
			return err
		case last == 0 || pending == 0:
			return nil
		}
		req.Seq = last + 1
	}
}

// inbox is one reply subscription whose channel holds a whole answer, so
// that the server is never held up and no reply is dropped.
type inbox struct {
	c       *Client
	subject string
	ch      chan *nats.Msg
	sub     *nats.Subscription
}

// subscribe subscribes a fresh inbox subject on c's connection. ib is a
// value the caller keeps on its stack.
func (ib *inbox) subscribe(c *Client, size int) error {
	ib.c, ib.subject, ib.ch = c, c.nc.NewInbox(), make(chan *nats.Msg, size)
	sub, err := c.nc.ChanSubscribe(ib.subject, ib.ch)
	if err != nil {
		return fmt.Errorf("direct get: %w", err)
	}
	ib.sub = sub
	return nil
}

func (ib *inbox) close() { _ = ib.sub.Unsubscribe() }

// exchange publishes one request and reads its answer; see Get.
func (ib *inbox) exchange(ctx context.Context, body []byte, fn func(*nats.Msg) bool) (uint64, error) {
	if err := ib.c.nc.PublishRequest(ib.c.subject, ib.subject, body); err != nil {
		return 0, fmt.Errorf("direct get: %w", err)
	}
	for {
		var m *nats.Msg
		select {
		case m = <-ib.ch:
		case <-ctx.Done():
			return 0, fmt.Errorf("direct get: %w", ctx.Err())
		}
		if st := Status(m); st != "" {
			return EndStatus(m, st)
		}
		if !fn(m) {
			return 0, nil
		}
	}
}

// EndStatus interprets a status message (status is its Status header)
// that ends an answer: the pending count of an end-of-batch, 0 for a
// 404, an error otherwise. Single gets, which Get does not send, end
// with the same statuses.
func EndStatus(m *nats.Msg, status string) (pending uint64, err error) {
	switch status {
	case StatusEndOfBatch:
		v := First(m.Header, HeaderNumPending)
		np, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("direct get: %w: bad %s %q", ErrMalformed, HeaderNumPending, v)
		}
		return np, nil
	case StatusNotFound:
		return 0, nil
	case StatusNoResponders:
		return 0, fmt.Errorf("direct get: %w", nats.ErrNoResponders)
	default:
		return 0, fmt.Errorf("direct get: status %s %s", status, First(m.Header, HeaderDescription))
	}
}
