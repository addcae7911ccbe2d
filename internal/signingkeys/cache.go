package signingkeys

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/backoff"
)

// Defaults for zero CacheConfig fields.
const (
	// DefaultMinBackoff is the first delay before watching again after
	// the watch failed.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps the delay between failed attempts.
	DefaultMaxBackoff = 5 * time.Second
)

// CacheConfig configures a Cache. JS is required.
type CacheConfig struct {
	JS jetstream.JetStream
	// Bucket defaults to Bucket.
	Bucket string
	// Logger defaults to discarding.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the jittered, doubling delay between
	// watch attempts.
	MinBackoff, MaxBackoff time.Duration
	// OnChange, if set, is called with every kid that appeared or
	// disappeared, after PublicKey shows the change. It runs on Run's
	// goroutine and must return quickly.
	OnChange func(kid string)
}

// Cache is a local copy of the bucket. PublicKey is a lock-free read of
// an immutable map that Run replaces on every change.
type Cache struct {
	cfg       CacheConfig
	log       *slog.Logger
	keys      atomic.Pointer[map[string]ed25519.PublicKey]
	ready     chan struct{}
	readyOnce sync.Once
	running   atomic.Bool
}

// ErrAlreadyRunning is returned by a second concurrent call to Run.
var ErrAlreadyRunning = errors.New("signingkeys: cache already running")

// NewCache returns a cache that is empty until Run has loaded the bucket.
func NewCache(cfg CacheConfig) *Cache {
	if cfg.Bucket == "" {
		cfg.Bucket = Bucket
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	c := &Cache{cfg: cfg, log: cfg.Logger.With(slog.String("bucket", cfg.Bucket)), ready: make(chan struct{})}
	c.keys.Store(&map[string]ed25519.PublicKey{})
	return c
}

// Ready is closed once Run has loaded every key present when it first
// watched the bucket. Until then every lookup misses.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// PublicKey returns the live public key kid. The result is shared and
// must not be modified.
func (c *Cache) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := (*c.keys.Load())[kid]
	return k, ok
}

// Len returns the number of live keys in the cache.
func (c *Cache) Len() int { return len(*c.keys.Load()) }

// Run loads the bucket, then applies updates until ctx is done, when it
// returns nil. A failed watch is retried after a jittered, doubling delay
// and reloads everything, so that deletes missed meanwhile apply too;
// lookups keep answering from the last state in between.
func (c *Cache) Run(ctx context.Context) error {
	if c.cfg.JS == nil {
		return errors.New("signingkeys: CacheConfig.JS is required")
	}
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer c.running.Store(false)
	delay := c.cfg.MinBackoff
	for {
		loaded, err := c.watch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if loaded {
			delay = c.cfg.MinBackoff
		}
		wait := backoff.Jitter(delay)
		c.log.Warn("signing key watch ended; watching again", slog.Any("error", err), slog.Duration("after", wait))
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
		delay = min(2*delay, c.cfg.MaxBackoff)
	}
}

// watch runs one watcher until it fails or ctx is done.
func (c *Cache) watch(ctx context.Context) (loaded bool, err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kv, err := c.cfg.JS.KeyValue(wctx, c.cfg.Bucket)
	if err != nil {
		return false, fmt.Errorf("open bucket: %w", err)
	}
	w, err := kv.WatchAll(wctx)
	if err != nil {
		return false, fmt.Errorf("watch bucket: %w", err)
	}
	defer func() { _ = w.Stop() }()
	next := make(map[string]ed25519.PublicKey)
	for {
		select {
		case <-ctx.Done():
			return loaded, ctx.Err()
		case kve, ok := <-w.Updates():
			if !ok {
				return loaded, errors.New("watcher closed")
			}
			if kve == nil {
				if !loaded {
					loaded = true
					c.publish(next)
					c.readyOnce.Do(func() { close(c.ready) })
					c.log.Debug("signing keys loaded", slog.Int("keys", len(next)))
				}
				continue
			}
			if loaded {
				next = clone(*c.keys.Load())
			}
			c.apply(next, kve)
			if loaded {
				c.publish(next)
			}
		}
	}
}

// apply folds one entry into keys. A malformed value counts as absent:
// a key the cache cannot read must not keep an older one verifying.
func (c *Cache) apply(keys map[string]ed25519.PublicKey, kve jetstream.KeyValueEntry) {
	if kve.Operation() != jetstream.KeyValuePut {
		delete(keys, kve.Key())
		return
	}
	k, err := Decode(kve.Value())
	if err == nil && k.KID != kve.Key() {
		err = fmt.Errorf("%w: kid %q under key %q", ErrMalformed, k.KID, kve.Key())
	}
	if err != nil {
		c.log.Warn("skipping malformed signing key", slog.String("key", kve.Key()), slog.Any("error", err))
		delete(keys, kve.Key())
		return
	}
	keys[k.KID] = k.PublicKey
}

// publish stores keys and reports every kid that appeared or disappeared.
func (c *Cache) publish(keys map[string]ed25519.PublicKey) {
	old := *c.keys.Swap(&keys)
	if c.cfg.OnChange == nil {
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
		c.cfg.OnChange(kid)
	}
}

func clone(m map[string]ed25519.PublicKey) map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
