package billing

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/backoff"
)

// Defaults shared by the two folders.
const (
	// DefaultFoldBatch is the most stream messages fetched and folded in
	// one transaction.
	DefaultFoldBatch = 500
	// DefaultFoldWait is the pause after a fetch that did not fill its
	// batch (the folder has caught up) before the next: the most a message
	// waits before it is folded when traffic is light.
	DefaultFoldWait = 200 * time.Millisecond
	// DefaultFoldAckWait is how long JetStream waits for a batch's
	// acknowledgement before delivering it again (a folder that died).
	DefaultFoldAckWait = 10 * time.Second
	// DefaultFoldTimeout bounds one fold transaction.
	DefaultFoldTimeout = 5 * time.Second
	// retryWait and maxRetryWait pace a folder that cannot reach NATS or
	// PostgreSQL: the wait doubles from the first to the second.
	retryWait    = 100 * time.Millisecond
	maxRetryWait = 5 * time.Second
)

// folder is the loop both folders share: set the durable consumer up,
// fetch batches, fold each, acknowledge after the commit; retry with
// backoff on any failure.
type folder struct {
	js       jetstream.JetStream
	stream   string
	consumer jetstream.ConsumerConfig
	batch    int
	wait     time.Duration
	// fold folds one batch; it returns the messages to acknowledge and
	// those to hand back (nak) for a later delivery.
	fold func(ctx context.Context, msgs []jetstream.Msg) (ack, nak []jetstream.Msg, err error)
	log  *slog.Logger
	m    *foldMetrics
}

// run folds until ctx is done, then returns ctx's error.
func (f *folder) run(ctx context.Context) error {
	wait := retryWait
	for {
		cons, err := f.js.CreateOrUpdateConsumer(ctx, f.stream, f.consumer)
		if err == nil {
			err = f.consume(ctx, cons, &wait)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.m.errors.Inc()
		f.log.Warn("meter folder unavailable; retrying", "stream", f.stream, "err", err, "wait", wait)
		if !backoff.Sleep(ctx, backoff.Jitter(wait)) {
			return ctx.Err()
		}
		wait = min(2*wait, maxRetryWait)
	}
}

func (f *folder) consume(ctx context.Context, cons jetstream.Consumer, wait *time.Duration) error {
	for ctx.Err() == nil {
		// Paced rather than a fetch that waits f.wait for its batch:
		// see stream.FetchPaced.
		batch, err := stream.FetchPaced(cons, f.batch, f.wait)
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) > 0 {
			ack, nak, err := f.fold(ctx, msgs)
			if err != nil {
				for _, m := range msgs {
					_ = m.Nak()
				}
				return fmt.Errorf("fold: %w", err)
			}
			for _, m := range ack {
				// A lost acknowledgement redelivers the message, which
				// the fold then skips.
				_ = m.Ack()
			}
			for _, m := range nak {
				// Not at once: what they wait for needs a moment.
				_ = m.NakWithDelay(f.wait)
			}
			f.m.batches.Inc()
			*wait = retryWait
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if !stream.Pause(ctx, len(msgs), f.batch, f.wait) {
			break
		}
	}
	return ctx.Err()
}

// consumerConfig is a folder's durable consumer: every message, from the
// start of the stream, delivered until acknowledged.
func consumerConfig(name, description string, ackWait time.Duration, maxAckPending, replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   description,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		Replicas:      replicas,
	}
}
