package stream

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/backoff"
)

// FetchLinger is how long a paced fetch's pull request stays open after
// delivering what was there. JetStream delivers a waiting pull request's
// messages one by one as they are stored (a wake-up of the consumer, of
// the connection and of the fetching goroutine per message), so the
// shorter it stays open the more messages come in bursts. It is not zero
// (FetchNoWait) because a no-wait request that JetStream cannot serve yet
// (MaxAckPending reached) stays open on the server with no expiry, and
// would take messages after nats.go gave up on it, until their AckWait.
const FetchLinger = 10 * time.Millisecond

// FetchPaced is a consumer's fetch of up to batch messages for a loop that
// calls Pause after each: it takes what has accumulated, at once. wait is
// the loop's bound on how long a message waits to be fetched.
//
// A fetch that waits for its batch (Fetch with MaxWait = wait) keeps a
// pull request open nearly all the time, so that each message is
// delivered alone as it is stored; paced, that cost is paid per batch. At
// 1,000 single-message publishes per second, history's
// BenchmarkLagAt1000PerSecond/burst=1 measured 11 % less process CPU and
// 0.35 fewer context switches per message, with the same lag, and
// billing's BenchmarkPublishedCounterAtRate 0.4 fewer context switches
// per message (5 % of the process's).
func FetchPaced(cons jetstream.Consumer, batch int, wait time.Duration) (jetstream.MessageBatch, error) {
	return cons.Fetch(batch, jetstream.FetchMaxWait(min(FetchLinger, wait)))
}

// Pause follows a FetchPaced that returned got messages: after a full
// batch there may be more, so it returns at once; otherwise it waits
// until the next fetch is due, so that a message waits at most wait (the
// pause and the next fetch's linger). It returns false when ctx is done.
func Pause(ctx context.Context, got, batch int, wait time.Duration) bool {
	if got >= batch {
		return ctx.Err() == nil
	}
	return backoff.Sleep(ctx, wait-min(FetchLinger, wait))
}
