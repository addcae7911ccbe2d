package realtime

import (
	"math/rand/v2"
	"time"
)

// backoff spaces reconnection attempts: exponential with full jitter, a
// wait uniform in [0, min(max, min·2^attempt)), so that clients that lost
// the same server do not come back in step.
type backoff struct {
	min, max time.Duration
	rand     func(n int64) int64 // uniform in [0, n); injected in tests
}

// maxDoublings keeps min·2^attempt from overflowing.
const maxDoublings = 30

func (b backoff) delay(attempt int) time.Duration {
	ceiling := b.max
	if attempt < maxDoublings {
		if c := b.min << attempt; c < ceiling {
			ceiling = c
		}
	}
	if ceiling <= 0 {
		return 0
	}
	r := b.rand
	if r == nil {
		r = rand.Int64N
	}
	return time.Duration(r(int64(ceiling)))
}

// closeAction is what a close code asks of the client (docs/protocol.md,
// "Codes").
type closeAction int

const (
	actBackoff closeAction = iota // reconnect after a backoff
	actNow                        // reconnect at once
	actFail                       // do not reconnect
	actToken                      // 4009: once more with a fresh token, if there is a provider
)

const (
	codeUnauthorized = 4009
	// minOverCapacityWait is the least wait after a 4100–4199 close.
	minOverCapacityWait = time.Second
)

func actionFor(code int) closeAction {
	switch {
	case code == codeUnauthorized:
		return actToken
	case code >= 4000 && code < 4100:
		return actFail
	case code >= 4200 && code < 4300:
		return actNow
	}
	return actBackoff
}
