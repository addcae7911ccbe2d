package webhooks

import (
	"testing"
	"time"
)

// Full jitter: every delay within [0, min(max, first·2^(n-1))], and the
// draws spread over that range.
func TestRetryDelayBounds(t *testing.T) {
	first, maxDelay := time.Second, 60*time.Second
	cases := []struct {
		n       int
		ceiling time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second}, {7, 60 * time.Second}, {40, 60 * time.Second}}
	for _, c := range cases {
		var lo, hi time.Duration = c.ceiling, 0
		for range 2000 {
			d := retryDelay(c.n, first, maxDelay)
			if d < 0 || d > c.ceiling {
				t.Fatalf("retry %d: delay %s outside [0, %s]", c.n, d, c.ceiling)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo > c.ceiling/4 || hi < c.ceiling*3/4 {
			t.Errorf("retry %d: delays span only [%s, %s] of [0, %s]", c.n, lo, hi, c.ceiling)
		}
	}
}

func TestSignFixedVector(t *testing.T) {
	body := []byte(`{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"test_channel"}]}`)
	const want = "709fdb84c03664445f7698120b0edf0acc1ab1c8c6e93a0368c61841d6b998aa"
	if got := Sign("7ad3773142a6692b25b8", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
