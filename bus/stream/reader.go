package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero ReaderConfig fields.
const (
	// DefaultBatch is how many messages one Direct Get request asks for.
	DefaultBatch = 256
	// DefaultReadMaxBytes caps the bytes of one Direct Get batch.
	DefaultReadMaxBytes = 1 << 20
	// DefaultReadTimeout bounds one Direct Get request.
	DefaultReadTimeout = 2 * time.Second
	// DefaultStaleRetries is how many times a read that must reach a known
	// serial is repeated when it ends below it (a follower that is behind).
	DefaultStaleRetries = 4
	// DefaultStaleBackoff is the first pause before such a retry; it doubles.
	DefaultStaleBackoff = 20 * time.Millisecond
)

// ReaderConfig configures a Reader. Zero fields take the defaults above;
// NC is required.
type ReaderConfig struct {
	// NC is the connection for JetStream traffic.
	NC *nats.Conn
	// Shard is the shard whose stream is read (one shard for now).
	Shard    int
	Batch    int
	MaxBytes int
	// Timeout bounds each Direct Get request (a read may make several).
	Timeout time.Duration
	// StaleRetries < 0 disables the retries.
	StaleRetries int
	StaleBackoff time.Duration
	Logger       *slog.Logger
}

// Reader reads a channel's stored messages with (batched) Direct Get, which
// any replica of the stream answers, without creating consumers. Replicas
// may be slightly behind the leader; see Range.
type Reader struct {
	cfg ReaderConfig
	get *directget.Client
}

// NewReader returns a Reader.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if cfg.NC == nil {
		return nil, errors.New("new reader: NC is required")
	}
	cfg.Batch = defaults.Positive(cfg.Batch, DefaultBatch)
	cfg.MaxBytes = defaults.Positive(cfg.MaxBytes, DefaultReadMaxBytes)
	cfg.Timeout = defaults.Positive(cfg.Timeout, DefaultReadTimeout)
	switch {
	case cfg.StaleRetries == 0:
		cfg.StaleRetries = DefaultStaleRetries
	case cfg.StaleRetries < 0:
		cfg.StaleRetries = 0
	}
	cfg.StaleBackoff = defaults.Positive(cfg.StaleBackoff, DefaultStaleBackoff)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reader{cfg: cfg, get: directget.New(cfg.NC, StreamName(cfg.Shard), cfg.Timeout)}, nil
}

// Range returns the channel's messages with after < serial <= upTo, in
// serial order, at most limit of them (limit <= 0: no limit; callers that
// serve clients must pass one).
//
// upTo 0 means up to the newest message. A non-zero upTo must be the serial
// of a message of the channel (a PrevSerial, or a serial a client saw):
// when the read ends below it, the replica that answered may be behind, so
// Range retries a few times and then returns the messages it has with an
// error wrapping ErrGapUnrecoverable. Other errors wrap ErrUnavailable
// when NATS did not answer.
func (r *Reader) Range(ctx context.Context, appID, channel string, after, upTo uint64, limit int) ([]Delivery, error) {
	var out []Delivery
	err := r.scan(ctx, appID, channel, query{after: after, upTo: upTo, limit: limit}, func(d *Delivery) bool {
		out = append(out, *d)
		return true
	})
	if err != nil {
		return out, fmt.Errorf("read %s range (%d, %d]: %w", appID, after, upTo, err)
	}
	return out, nil
}

// SinceTime returns the channel's messages stored at or after since, in
// serial order, at most limit of them (limit <= 0: no limit).
func (r *Reader) SinceTime(ctx context.Context, appID, channel string, since time.Time, limit int) ([]Delivery, error) {
	var out []Delivery
	err := r.scan(ctx, appID, channel, query{since: since, limit: limit}, func(d *Delivery) bool {
		out = append(out, *d)
		return true
	})
	if err != nil {
		return out, fmt.Errorf("read %s since %s: %w", appID, since.Format(time.RFC3339Nano), err)
	}
	return out, nil
}

// Each passes the channel's messages with after < serial <= upTo to fn, in
// serial order, until fn returns false or the range is done. upTo 0 means
// up to the newest message the answering replica holds; a non-zero upTo
// must be the serial of a message of the channel (LeaderLast), and a read
// that ends below it is retried as in Range. The *Delivery is reused
// between calls: fn must copy what it keeps (Data is never reused). The
// history API reads what its writer has not stored yet this way.
func (r *Reader) Each(ctx context.Context, appID, channel string, after, upTo uint64, fn func(*Delivery) bool) error {
	if err := r.scan(ctx, appID, channel, query{after: after, upTo: upTo}, fn); err != nil {
		return fmt.Errorf("read %s range (%d, %d]: %w", appID, after, upTo, err)
	}
	return nil
}

// msgGetPrefix is the JetStream API's message get, which only the stream
// leader answers.
const msgGetPrefix = "$JS.API.STREAM.MSG.GET."

// LeaderLast returns the serial of the channel's newest message as the
// stream leader knows it (0 when the channel has none): unlike Direct
// Get, which any replica answers, it includes every message whose publish
// has returned. It costs a JetStream API request.
func (r *Reader) LeaderLast(ctx context.Context, appID, channel string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(struct {
		LastFor string `json:"last_by_subj"`
	}{channels.MessageSubject(r.cfg.Shard, appID, channel)})
	if err != nil {
		return 0, err
	}
	m, err := r.cfg.NC.RequestWithContext(ctx, msgGetPrefix+StreamName(r.cfg.Shard), body)
	if err != nil {
		return 0, fmt.Errorf("read %s leader last: %w", appID, classify(err))
	}
	var resp struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return 0, fmt.Errorf("read %s leader last: %w: %w", appID, ErrMalformed, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == int(jetstream.JSErrCodeMessageNotFound):
		return 0, nil
	case resp.Error != nil && resp.Error.Code == apiCodeUnavailable:
		return 0, fmt.Errorf("read %s leader last: %w: %s", appID, ErrUnavailable, resp.Error.Description)
	case resp.Error != nil:
		return 0, fmt.Errorf("read %s leader last: %s (%d)", appID, resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil || resp.Message.Seq == 0:
		return 0, fmt.Errorf("read %s leader last: %w: no message in the answer", appID, ErrMalformed)
	}
	return resp.Message.Seq, nil
}

// Last returns the channel's newest message; ok is false when the channel
// has none in the stream. A replica that is behind may answer with an
// older one.
func (r *Reader) Last(ctx context.Context, appID, channel string) (d Delivery, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	subject := r.get.Subject() + "." + channels.MessageSubject(r.cfg.Shard, appID, channel)
	m, err := r.cfg.NC.RequestWithContext(ctx, subject, nil)
	if err != nil {
		return d, false, fmt.Errorf("read %s last: %w", appID, classify(err))
	}
	if status := directget.Status(m); status != "" {
		if _, err := directget.EndStatus(m, status); err != nil {
			return d, false, fmt.Errorf("read %s last: %w", appID, classify(err))
		}
		return d, false, nil // 404: no message
	}
	if err := decodeStored(&d, m, appID, channel); err != nil {
		return Delivery{}, false, fmt.Errorf("read %s last: %w", appID, err)
	}
	return d, true, nil
}

// query is what scan reads: after/upTo bound serials (upTo 0: no bound),
// since (when set) replaces after for the first request.
type query struct {
	after, upTo uint64
	since       time.Time
	limit       int
}

// scan reads the channel's messages matching q and passes them to fn in
// serial order until fn returns false. The *Delivery is reused between
// calls: fn must copy what it keeps (Data is never reused).
func (r *Reader) scan(ctx context.Context, appID, channel string, q query, fn func(*Delivery) bool) error {
	if q.upTo > 0 && q.after >= q.upTo {
		return nil
	}
	subject := channels.MessageSubject(r.cfg.Shard, appID, channel)
	var (
		d         Delivery
		next      = q.after + 1
		byTime    = !q.since.IsZero()
		prev      uint64
		n         int
		retries   int
		wait      = r.cfg.StaleBackoff
		stop      bool
		reached   bool
		decodeErr error
	)
	each := func(m *nats.Msg) bool {
		err := decodeStored(&d, m, appID, channel)
		if err != nil && d.Serial == 0 {
			decodeErr = err // the server's own headers: cannot go on
			return false
		}
		if q.upTo > 0 && d.Serial >= q.upTo {
			reached = true
			if d.Serial > q.upTo {
				// upTo itself is gone; nothing of the range is left.
				return false
			}
		}
		next, byTime = d.Serial+1, false
		if err != nil {
			// Not published by this package: step over it.
			r.cfg.Logger.Warn("skipping malformed stream message", slog.String("app", appID), slog.Any("err", err))
			return !reached
		}
		d.PrevSerial = prev
		prev = d.Serial
		n++
		if !fn(&d) || reached || (q.limit > 0 && n >= q.limit) {
			stop = true
			return false
		}
		return true
	}
	for {
		req := directget.Request{NextFor: subject, Batch: r.batchSize(q, next, n), MaxBytes: r.cfg.MaxBytes}
		if byTime {
			since := q.since.UTC()
			req.StartTime = &since
		} else {
			req.Seq = next
		}
		from := next
		pending, err := r.getBatch(ctx, req, each)
		switch {
		case decodeErr != nil:
			return decodeErr
		case err != nil:
			return classify(err)
		case stop || reached:
			return nil
		case pending > 0 && next > from:
			continue
		case q.upTo == 0:
			return nil
		}
		// The read ended below upTo.
		if retries >= r.cfg.StaleRetries {
			return fmt.Errorf("%w: read ended at %d, below %d", ErrGapUnrecoverable, next-1, q.upTo)
		}
		retries++
		r.cfg.Logger.Debug("direct get behind, retrying",
			slog.String("app", appID), slog.Uint64("at", next-1), slog.Uint64("want", q.upTo))
		if !backoff.Sleep(ctx, wait) {
			return ctx.Err()
		}
		wait *= 2
	}
}

// batchSize is the batch for the next request: no more than the limit
// leaves, and no more than the serials left below upTo (a channel cannot
// have more messages than that), which keeps gap repairs small.
func (r *Reader) batchSize(q query, next uint64, n int) int {
	b := r.cfg.Batch
	if q.limit > 0 {
		b = min(b, q.limit-n)
	}
	if q.upTo > 0 && q.upTo >= next {
		b = int(min(uint64(b), q.upTo-next+1, math.MaxInt32))
	}
	return b
}
