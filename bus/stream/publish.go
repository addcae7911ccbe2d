package stream

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero PublisherConfig fields.
const (
	// DefaultPublishTimeout bounds one Publish or PublishBatch call,
	// retries included. It outlasts a typical stream leader election.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultAttemptTimeout bounds one attempt: an ack that does not come
	// back in time (the leader died with our request) is retried.
	DefaultAttemptTimeout = 2 * time.Second
	// DefaultRetryWait is the first pause between attempts; it doubles up
	// to maxRetryWait.
	DefaultRetryWait = 50 * time.Millisecond
	// DefaultMaxAsyncPending caps acks in flight for PublishBatch.
	DefaultMaxAsyncPending = 4096
)

const maxRetryWait = time.Second

// PublisherConfig configures a Publisher. Zero fields take the defaults
// above; JS is required.
type PublisherConfig struct {
	// JS is a JetStream context on the connection used for JetStream
	// traffic (not the one Live subscribes on).
	JS jetstream.JetStream
	// Shard is the shard messages go to (one shard for now).
	Shard          int
	Timeout        time.Duration
	AttemptTimeout time.Duration
	RetryWait      time.Duration
	// MaxAsyncPending caps the acks PublishBatch waits for at once.
	MaxAsyncPending int
	Logger          *slog.Logger
}

// Publisher stores messages in the message stream. It is safe for
// concurrent use.
type Publisher struct {
	cfg PublisherConfig
	// async is a JetStream context of our own for PublishBatch, so that
	// abandoned acks time out after AttemptTimeout whatever options the
	// caller's context has.
	async jetstream.JetStream
}

// Result is the outcome of one message of a PublishBatch.
type Result struct {
	// Serial is the message's serial; for a duplicate, the serial of the
	// message first stored with the same MsgID.
	Serial    uint64
	Duplicate bool
	// Err is the classified error (ErrUnavailable, ErrTooLarge, …) when the
	// message was not stored.
	Err error
}

// NewPublisher returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.JS == nil {
		return nil, errors.New("new publisher: JS is required")
	}
	cfg.Timeout = defaults.Positive(cfg.Timeout, DefaultPublishTimeout)
	cfg.AttemptTimeout = defaults.Positive(cfg.AttemptTimeout, DefaultAttemptTimeout)
	cfg.RetryWait = defaults.Positive(cfg.RetryWait, DefaultRetryWait)
	cfg.MaxAsyncPending = defaults.Positive(cfg.MaxAsyncPending, DefaultMaxAsyncPending)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	async, err := jetstream.New(cfg.JS.Conn(),
		jetstream.WithPublishAsyncTimeout(cfg.AttemptTimeout),
		jetstream.WithPublishAsyncMaxPending(cfg.MaxAsyncPending))
	if err != nil {
		return nil, fmt.Errorf("new publisher: %w", err)
	}
	return &Publisher{cfg: cfg, async: async}, nil
}

// Publish stores m and returns its serial. A message whose MsgID was
// already stored within the duplicate window is not stored again: Publish
// returns the original serial and duplicate=true. Because attempts are
// retried with the same MsgID, duplicate can also be true when an earlier
// attempt of this very call was stored but its ack was lost.
//
// Errors: channels.BadRequest for an invalid message, ErrTooLarge,
// ErrStoreFull when JetStream has no storage left, and
// ErrUnavailable when the stream did not answer within the timeout.
func (p *Publisher) Publish(ctx context.Context, m Message) (serial uint64, duplicate bool, err error) {
	if err := m.validate(); err != nil {
		return 0, false, fmt.Errorf("publish: %w", err)
	}
	msg := m.natsMsg(channels.MessageSubject(p.cfg.Shard, m.AppID, m.Channel), msgID(m.MsgID))
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	var ack *jetstream.PubAck
	err = p.retry(ctx, func(actx context.Context) error {
		var err error
		// Retries are ours (with backoff and the whole call's deadline).
		ack, err = p.cfg.JS.PublishMsg(actx, msg, jetstream.WithRetryAttempts(0))
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("publish to %s: %w", m.AppID, classify(err))
	}
	return ack.Sequence, ack.Duplicate, nil
}

// PublishBatch stores several messages with asynchronous publishes, so
// that a publish to many channels costs about one round trip, not one per
// message. Messages that fail with a retryable error are published again
// until the timeout (as in Publish, a retried message whose first ack was
// lost comes back as a duplicate). Two messages to the same channel in one
// batch may be stored in either order.
//
// The results are in the order of msgs. err is a channels.BadRequest when a
// message is invalid (then nothing is published), otherwise the first
// failed message's error, if any; the results say which ones were stored.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []Message) ([]Result, error) {
	nmsgs := make([]*nats.Msg, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("publish batch: message %d: %w", i, err)
		}
		nmsgs[i] = m.natsMsg(channels.MessageSubject(p.cfg.Shard, m.AppID, m.Channel), msgID(m.MsgID))
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	results := make([]Result, len(msgs))
	pending := make([]int, len(msgs))
	for i := range pending {
		pending[i] = i
	}
	wait := p.cfg.RetryWait
	for {
		p.publishRound(ctx, nmsgs, pending, results)
		next := pending[:0]
		for _, i := range pending {
			if results[i].Err != nil && retryable(results[i].Err) {
				next = append(next, i)
			}
		}
		pending = next
		if len(pending) == 0 || !backoff.Sleep(ctx, wait) {
			break
		}
		p.cfg.Logger.Debug("retrying batch publish", slog.Int("messages", len(pending)))
		wait = min(2*wait, maxRetryWait)
	}

	var first error
	for i := range results {
		if err := results[i].Err; err != nil {
			results[i].Err = fmt.Errorf("publish to %s: %w", msgs[i].AppID, classify(err))
			if first == nil {
				first = fmt.Errorf("publish batch: message %d: %w", i, results[i].Err)
			}
		}
	}
	return results, first
}

// publishRound publishes the messages at indexes pending and waits for
// their acks (each times out after AttemptTimeout), filling results.
func (p *Publisher) publishRound(ctx context.Context, nmsgs []*nats.Msg, pending []int, results []Result) {
	futures := make([]jetstream.PubAckFuture, len(pending))
	for j, i := range pending {
		f, err := p.async.PublishMsgAsync(nmsgs[i], jetstream.WithRetryAttempts(0))
		results[i] = Result{Err: err}
		futures[j] = f
	}
	for j, i := range pending {
		f := futures[j]
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			results[i] = Result{Serial: ack.Sequence, Duplicate: ack.Duplicate}
		case err := <-f.Err():
			results[i] = Result{Err: err}
		case <-ctx.Done():
			results[i] = Result{Err: ctx.Err()}
		}
	}
}

// retry runs op until it succeeds, fails for good, or ctx is done; each
// attempt gets AttemptTimeout.
func (p *Publisher) retry(ctx context.Context, op func(context.Context) error) error {
	wait := p.cfg.RetryWait
	for {
		actx, cancel := context.WithTimeout(ctx, p.cfg.AttemptTimeout)
		err := op(actx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		p.cfg.Logger.Debug("retrying publish", slog.Any("err", err), slog.Duration("wait", wait))
		if !backoff.Sleep(ctx, wait) {
			return err
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// msgID returns id, or a new random one (128 bits) when id is empty.
func msgID(id string) string {
	if id != "" {
		return id
	}
	return rand.Text()
}
