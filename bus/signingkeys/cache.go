package signingkeys

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
)

// CacheConfig configures a Cache. JS is required; Bucket defaults to
// Bucket. OnChange, if set, is called with every kid that appeared or
// disappeared, after PublicKey shows the change.
type CacheConfig = kvwatch.CacheConfig

// Cache is a local copy of the bucket. PublicKey is a lock-free read of
// an immutable map that Run replaces on every change.
type Cache struct {
	onChange func(kid string)
	watcher  *kvwatch.Watcher
	log      *slog.Logger
	keys     atomic.Pointer[map[string]ed25519.PublicKey]
}

// ErrAlreadyRunning is returned by a second concurrent call to Run.
var ErrAlreadyRunning = kvwatch.ErrAlreadyRunning

// NewCache returns a cache that is empty until Run has loaded the bucket.
func NewCache(cfg CacheConfig) *Cache {
	c := &Cache{onChange: cfg.OnChange}
	c.watcher = cfg.Watcher(Bucket, c.load, c.apply)
	c.log = c.watcher.Logger()
	c.keys.Store(&map[string]ed25519.PublicKey{})
	return c
}

// Run loads the bucket, then applies updates until ctx is done, when it
// returns nil; see kvwatch.Watcher.Run for how it recovers from failures
// (a dropped connection, a failed watch) and when it returns an error.
// Lookups keep answering from the last state while it recovers.
func (c *Cache) Run(ctx context.Context) error { return c.watcher.Run(ctx) }

// Ready is closed once Run has loaded every key present when it first
// watched the bucket. Until then every lookup misses.
func (c *Cache) Ready() <-chan struct{} { return c.watcher.Ready() }

// PublicKey returns the live public key kid. The result is shared and
// must not be modified.
func (c *Cache) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := (*c.keys.Load())[kid]
	return k, ok
}

// Len returns the number of live keys in the cache.
func (c *Cache) Len() int { return len(*c.keys.Load()) }

// load publishes the keys of a complete reload.
func (c *Cache) load(entries []jetstream.KeyValueEntry) {
	keys := make(map[string]ed25519.PublicKey, len(entries))
	c.fold(keys, entries)
	c.publish(keys)
}

// apply publishes the keys with a batch of updates folded in.
func (c *Cache) apply(batch []jetstream.KeyValueEntry) {
	keys := maps.Clone(*c.keys.Load())
	c.fold(keys, batch)
	c.publish(keys)
}

// fold applies entries to keys in order. A malformed value counts as
// absent: a key the cache cannot read must not keep an older one
// verifying.
func (c *Cache) fold(keys map[string]ed25519.PublicKey, entries []jetstream.KeyValueEntry) {
	for _, kve := range entries {
		if kve.Operation() != jetstream.KeyValuePut {
			delete(keys, kve.Key())
			continue
		}
		k, err := Decode(kve.Value())
		if err == nil && k.KID != kve.Key() {
			err = fmt.Errorf("%w: kid %q under key %q", ErrMalformed, k.KID, kve.Key())
		}
		if err != nil {
			c.log.Warn("skipping malformed signing key", slog.String("key", kve.Key()), slog.Any("error", err))
			delete(keys, kve.Key())
			continue
		}
		keys[k.KID] = k.PublicKey
	}
}

// publish stores keys and reports every kid that appeared or disappeared.
// keys must not be modified afterwards.
func (c *Cache) publish(keys map[string]ed25519.PublicKey) {
	old := *c.keys.Swap(&keys)
	if c.onChange == nil {
		return
	}
	var changed []string
	for kid := range keys {
		if _, ok := old[kid]; !ok {
			changed = append(changed, kid)
		}
	}
	for kid := range old {
		if _, ok := keys[kid]; !ok {
			changed = append(changed, kid)
		}
	}
	sort.Strings(changed)
	for _, kid := range changed {
		c.onChange(kid)
	}
}
