package kvwatch

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// CacheConfig configures a cache that mirrors a bucket through a Watcher
// (appconfig.Cache, signingkeys.Cache): the Watcher's settings, less Load
// and Apply, which the cache supplies. JS is required; zero durations take
// the defaults of Config.
type CacheConfig struct {
	// JS and Logger are passed to the Watcher (see Config). Bucket
	// defaults to the cache's own.
	JS     jetstream.JetStream
	Bucket string
	Logger *slog.Logger
	// MinBackoff, MaxBackoff and SetupTimeout are the Watcher's timing
	// (see Config).
	MinBackoff, MaxBackoff, SetupTimeout time.Duration
	// OnChange, if set, is called with the key of every entry the cache
	// reports as changed (each cache says which), after its lookups show
	// the change. It runs on Run's goroutine without locks held and must
	// return quickly: later updates wait for it.
	OnChange func(key string)
}

// Watcher returns a watcher of cfg.Bucket, or of bucket when cfg names
// none, that hands what it reads to load and apply (see Config).
func (cfg CacheConfig) Watcher(bucket string, load, apply func([]jetstream.KeyValueEntry)) *Watcher {
	if cfg.Bucket != "" {
		bucket = cfg.Bucket
	}
	return New(Config{
		JS:           cfg.JS,
		Bucket:       bucket,
		Logger:       cfg.Logger,
		MinBackoff:   cfg.MinBackoff,
		MaxBackoff:   cfg.MaxBackoff,
		SetupTimeout: cfg.SetupTimeout,
		Load:         load,
		Apply:        apply,
	})
}
