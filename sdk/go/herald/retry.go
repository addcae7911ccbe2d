package herald

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// Defaults of RetryPolicy's zero fields.
const (
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
)

// RetryPolicy says how idempotent calls are retried: reads, and publishes
// that carry an idempotency key (a retried publish without one could be
// delivered twice, so it is never retried). A failure is retried when it
// is a network error or an answer 429, 500, 502, 503 or 504; waits grow
// exponentially with full jitter (a random time between 0 and
// min(MaxDelay, BaseDelay·2^n)), and a Retry-After from the server is
// waited exactly, unless it is longer than MaxDelay: then the error is
// returned at once, carrying RetryAfter, for the caller to schedule. The
// context's deadline and cancellation end the waits.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 turns retries off. 0:
	// DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay is the backoff's first bound. 0: DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay bounds every wait. 0: DefaultMaxDelay.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	return p
}

// maxBackoffShift bounds the exponent of the backoff: beyond it
// BaseDelay·2^n overflows, and the bound is MaxDelay anyway.
const maxBackoffShift = 30

// retryableStatus are the answers worth another try.
var retryableStatus = map[int]bool{
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

// delay returns how long to wait before attempt n+1 (n counts from 0)
// after err, an *Error or a network error, and false when err is not
// worth retrying.
func (p RetryPolicy) delay(n int, err error) (time.Duration, bool) {
	var he *Error
	if errors.As(err, &he) {
		if !retryableStatus[he.Status] {
			return 0, false
		}
		if he.RetryAfter > 0 {
			return he.RetryAfter, he.RetryAfter <= p.MaxDelay
		}
	}
	bound := p.MaxDelay
	if n < maxBackoffShift {
		bound = min(p.MaxDelay, p.BaseDelay<<n)
	}
	return rand.N(bound + 1), true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
