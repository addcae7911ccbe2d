package webhooks

import (
	"math/rand/v2"
	"time"
)

// retryDelay is the wait before retry n (1 for the first) with full
// jitter: uniform in [0, min(max, first·2^(n-1))].
func retryDelay(n int, first, maxDelay time.Duration) time.Duration {
	ceiling := first
	for i := 1; i < n && ceiling < maxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxDelay)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}
