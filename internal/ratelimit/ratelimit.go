// Package ratelimit holds token buckets keyed by a string (a client
// address, an app id) in a sharded map whose size is bounded: buckets that
// have refilled are swept away, and a full shard forgets an arbitrary
// bucket rather than grow, so that an attacker spraying addresses costs a
// bounded amount of memory.
package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxKeys bounds the buckets a Limiter holds.
	DefaultMaxKeys = 100_000
	// shards spreads the buckets over several locks.
	shards = 32
)

// Config configures a Limiter.
type Config struct {
	// Rate is how many events per second a key may make in the long run;
	// zero or negative makes Allow always true.
	Rate float64
	// Burst is how many events a key may make at once (at least 1).
	Burst int
	// MaxKeys bounds the buckets held; zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limiter is a set of token buckets, one per key. It is safe for
// concurrent use. A nil *Limiter allows everything.
type Limiter struct {
	rate     float64
	burst    float64
	perShard int
	now      func() time.Time
	seed     maphash.Seed
	shards   [shards]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]bucket
}

// bucket is a key's tokens as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter, or nil (which allows everything) when cfg.Rate
// is not positive.
func New(cfg Config) *Limiter {
	if cfg.Rate <= 0 || math.IsNaN(cfg.Rate) {
		return nil
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{
		rate:     cfg.Rate,
		burst:    float64(max(cfg.Burst, 1)),
		perShard: max(cfg.MaxKeys/shards, 1),
		now:      cfg.Now,
		seed:     maphash.MakeSeed(),
	}
	for i := range l.shards {
		l.shards[i].buckets = map[string]bucket{}
	}
	return l
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is available.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	s := &l.shards[maphash.String(l.seed, key)%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b, found := s.buckets[key]
	if found {
		b.tokens = l.refill(b, now)
	} else {
		if len(s.buckets) >= l.perShard {
			l.makeRoomLocked(s, now)
		}
		b.tokens = l.burst
	}
	b.last = now
	if b.tokens < 1 {
		s.buckets[key] = b
		return false, l.untilToken(b.tokens)
	}
	b.tokens--
	s.buckets[key] = b
	return true, 0
}

// Wait returns how long until key's bucket holds a token, without
// taking one: 0 when an event would be allowed now. It lets a caller
// refuse work before doing it and spend a token only on what it then
// counts (a failed authentication, say).
func (l *Limiter) Wait(key string) time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	s := &l.shards[maphash.String(l.seed, key)%shards]
	s.mu.Lock()
	b, found := s.buckets[key]
	s.mu.Unlock()
	if !found {
		return 0
	}
	if tokens := l.refill(b, now); tokens < 1 {
		return l.untilToken(tokens)
	}
	return 0
}

// untilToken is how long a bucket holding tokens (fewer than one) takes
// to hold one; never zero, which means "now" to callers.
func (l *Limiter) untilToken(tokens float64) time.Duration {
	return max(time.Duration((1-tokens)/l.rate*float64(time.Second)), time.Nanosecond)
}

// refill returns b's tokens at now.
func (l *Limiter) refill(b bucket, now time.Time) float64 {
	elapsed := now.Sub(b.last).Seconds()
	if elapsed <= 0 {
		return b.tokens
	}
	return min(l.burst, b.tokens+elapsed*l.rate)
}

// makeRoomLocked drops s's full buckets, and if none was full, one
// arbitrary bucket: forgetting a key only gives it a fresh burst, which
// beats unbounded memory. The caller holds s.mu.
func (l *Limiter) makeRoomLocked(s *shard, now time.Time) {
	l.sweepLocked(s, now)
	if len(s.buckets) < l.perShard {
		return
	}
	for k := range s.buckets {
		delete(s.buckets, k)
		return
	}
}

// sweepLocked drops the buckets that have refilled: they are the same as
// no bucket. The caller holds s.mu.
func (l *Limiter) sweepLocked(s *shard, now time.Time) {
	for k, b := range s.buckets {
		if l.refill(b, now) >= l.burst {
			delete(s.buckets, k)
		}
	}
}

// Sweep drops every bucket that has refilled. Call it periodically (see
// FullAfter) so that idle keys do not hold memory.
func (l *Limiter) Sweep() {
	if l == nil {
		return
	}
	now := l.now()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		l.sweepLocked(s, now)
		s.mu.Unlock()
	}
}

// FullAfter is how long an empty bucket takes to refill: a sensible sweep
// period.
func (l *Limiter) FullAfter() time.Duration {
	if l == nil {
		return 0
	}
	return time.Duration(l.burst / l.rate * float64(time.Second))
}

// Len returns how many buckets are held.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// RetryAfterSeconds rounds d up to whole seconds, at least 1, for an HTTP
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
