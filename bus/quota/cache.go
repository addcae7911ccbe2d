package quota

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
)

// CacheConfig configures a Cache (see kvwatch.CacheConfig). JS is
// required.
type CacheConfig = kvwatch.CacheConfig

// Cache is a process's copy of the bucket. Totals is a lock-free read of
// an immutable snapshot that Run replaces on every change.
type Cache struct {
	onChange func(accountID string)
	watcher  *kvwatch.Watcher
	log      *slog.Logger
	snap     atomic.Pointer[map[string]*Entry]
}

// NewCache returns a cache that is empty until Run has loaded the bucket.
func NewCache(cfg CacheConfig) *Cache {
	c := &Cache{onChange: cfg.OnChange}
	c.watcher = cfg.Watcher(Bucket, c.load, c.apply)
	c.log = c.watcher.Logger()
	empty := map[string]*Entry{}
	c.snap.Store(&empty)
	return c
}

// Run loads the bucket, then applies updates until ctx is done (see
// kvwatch.Watcher.Run).
func (c *Cache) Run(ctx context.Context) error { return c.watcher.Run(ctx) }

// Ready is closed once Run has loaded the bucket for the first time.
func (c *Cache) Ready() <-chan struct{} { return c.watcher.Ready() }

// Totals returns the account's latest totals. The result is shared and
// must not be modified; a new pointer means new totals.
func (c *Cache) Totals(accountID string) (*Entry, bool) {
	e, ok := (*c.snap.Load())[accountID]
	return e, ok
}

// decode reads one watch entry; ok is false for deletes and malformed
// values (logged), which leave the account without totals.
func (c *Cache) decode(kve jetstream.KeyValueEntry) (*Entry, bool) {
	if kve.Operation() != jetstream.KeyValuePut {
		return nil, false
	}
	e, err := Decode(kve.Value())
	if err != nil {
		c.log.Warn("skipping malformed quota totals", slog.String("key", kve.Key()), slog.Any("error", err))
		return nil, false
	}
	return &e, true
}

func (c *Cache) load(entries []jetstream.KeyValueEntry) {
	m := make(map[string]*Entry, len(entries))
	for _, kve := range entries {
		if e, ok := c.decode(kve); ok {
			m[kve.Key()] = e
		}
	}
	c.publish(m, func(yield func(string)) {
		for id := range m {
			yield(id)
		}
	})
}

func (c *Cache) apply(batch []jetstream.KeyValueEntry) {
	old := *c.snap.Load()
	m := make(map[string]*Entry, len(old)+len(batch))
	for id, e := range old {
		m[id] = e
	}
	for _, kve := range batch {
		e, ok := c.decode(kve)
		switch {
		case !ok:
			delete(m, kve.Key())
		case Stale(e, m[kve.Key()]):
			// Keep the newer totals: a put raced ahead of this one.
		default:
			m[kve.Key()] = e
		}
	}
	c.publish(m, func(yield func(string)) {
		for _, kve := range batch {
			yield(kve.Key())
		}
	})
}

// publish stores m and reports the changed accounts to OnChange.
func (c *Cache) publish(m map[string]*Entry, changed func(yield func(string))) {
	c.snap.Store(&m)
	if c.onChange != nil {
		changed(c.onChange)
	}
}

// Stale reports whether e is older totals than cur: of an earlier day or
// month, or of the same ones with fewer messages. Totals only grow within
// their periods, so of two reads the later never has fewer; but the
// control plane's folders (and control planes) put what they read
// concurrently, and a put of an older read may land after a newer one.
// Taken, it would forget the messages the newer one held (and let the
// enforcers drop what they count above it). Equal counts are not stale:
// the later of them may have moved marks.
func Stale(e, cur *Entry) bool {
	if cur == nil {
		return false
	}
	if !e.Day.Equal(cur.Day) || !e.Month.Equal(cur.Month) {
		return e.Day.Before(cur.Day) || e.Month.Before(cur.Month)
	}
	return e.DayMessages < cur.DayMessages || e.MonthMessages < cur.MonthMessages
}
