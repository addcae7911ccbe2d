package billing

import "time"

// rateBucket is an app's publish_rate token bucket: it refills at rate
// messages per second and holds one second of them (burst = rate). It is
// guarded by its account's lock.
type rateBucket struct {
	tokens float64
	at     time.Time
	rate   int64
}

// take spends n tokens. A publish of more messages than the bucket holds
// passes when the bucket is full and leaves it in debt, so that a large
// publish is not refused for ever. With soft enforcement nothing is
// refused but an overage is still reported, and the bucket does not go
// into debt for it.
func (b *rateBucket) take(rate, n int64, now time.Time, hard bool) Verdict {
	if rate <= 0 {
		return Verdict{}
	}
	capacity := float64(rate)
	if b.at.IsZero() || b.rate != rate {
		b.tokens, b.rate = capacity, rate
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(capacity, b.tokens+d.Seconds()*capacity)
	}
	b.at = now
	need := min(float64(n), capacity)
	if b.tokens >= need {
		b.tokens -= float64(n)
		return Verdict{}
	}
	wait := time.Duration((need - b.tokens) / capacity * float64(time.Second))
	if !hard {
		b.tokens = max(0, b.tokens-float64(n))
	}
	return Verdict{Exceeded: QuotaPublishRate, Refused: hard, Limit: rate, RetryAfter: wait}
}
