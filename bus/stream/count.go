package stream

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of a Counter.
const (
	// DefaultCountBatch is how many messages one fetch of a count asks for.
	DefaultCountBatch = 1000
	// DefaultCountWait bounds one fetch of a count: the messages are
	// stored already, so a fetch that waits this long means the server
	// is in trouble.
	DefaultCountWait = 5 * time.Second
	// countConsumerIdle lets the server remove the consumer of a count
	// whose caller died before deleting it.
	countConsumerIdle = time.Minute
)

// CountQuery asks for one app's stored messages of one shard whose stream
// timestamps are in [From, To) and whose serials are at most UpTo.
type CountQuery struct {
	Shard    int
	AppID    string
	From, To time.Time
	// UpTo is the last serial counted; 0 counts nothing.
	UpTo uint64
}

// Counter reads through an app's messages in the stream without their
// bodies, for the usage reconciliation (docs/billing.md). It is safe for
// concurrent use; every count makes its own short-lived consumer.
type Counter struct {
	js jetstream.JetStream
}

// NewCounter returns a Counter over js.
func NewCounter(js jetstream.JetStream) *Counter { return &Counter{js: js} }

// Count calls each with the stream timestamp of every message q selects,
// in serial order. It returns held: the stream still holds every message
// it stored from then on (before it, messages expired or were removed,
// and a count says nothing); held is zero when the stream never removed
// a message.
func (c *Counter) Count(ctx context.Context, q CountQuery, each func(stored time.Time)) (held time.Time, err error) {
	name := StreamName(q.Shard)
	s, err := c.js.Stream(ctx, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("count %s: %w", name, classify(err))
	}
	info, err := s.Info(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("count %s: %w", name, classify(err))
	}
	held = heldSince(*info)
	if q.UpTo == 0 || !q.From.Before(q.To) {
		return held, nil
	}
	from := q.From
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     strings.TrimSuffix(shardSubjects(q.Shard), ">") + q.AppID + ".>",
		DeliverPolicy:     jetstream.DeliverByStartTimePolicy,
		OptStartTime:      &from,
		AckPolicy:         jetstream.AckNonePolicy,
		HeadersOnly:       true,
		MemoryStorage:     true,
		InactiveThreshold: countConsumerIdle,
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("count %s: %w", name, classify(err))
	}
	defer func() {
		// A fresh context: the caller's may be what ended the count.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultCountWait)
		defer cancel()
		_ = s.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	if err := scan(ctx, cons, q, each); err != nil {
		return time.Time{}, fmt.Errorf("count %s: %w", name, err)
	}
	return held, nil
}

// scan fetches until the consumer has nothing pending or a message is
// past q's bounds.
func scan(ctx context.Context, cons jetstream.Consumer, q CountQuery, each func(time.Time)) error {
	if cons.CachedInfo().NumPending == 0 {
		return nil
	}
	for {
		batch, err := cons.Fetch(DefaultCountBatch, jetstream.FetchMaxWait(DefaultCountWait))
		if err != nil {
			return classify(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			if md.Sequence.Stream > q.UpTo || !md.Timestamp.Before(q.To) {
				return nil
			}
			each(md.Timestamp)
			if md.NumPending == 0 {
				return nil
			}
		}
		if err := batch.Error(); err != nil {
			return classify(err)
		}
		if got == 0 {
			return ErrCountStalled
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// heldSince is when the stream's complete record begins: after the
// newest message it removed from its front (by age, size or a purge), or
// the zero time when it never removed one.
func heldSince(info jetstream.StreamInfo) time.Time {
	st := info.State
	switch {
	case st.FirstSeq <= 1:
		return time.Time{}
	case st.Msgs > 0:
		return st.FirstTime.UTC()
	default:
		// Everything it stored is gone.
		return st.LastTime.UTC().Add(time.Nanosecond)
	}
}
