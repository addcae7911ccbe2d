package debugstream

import (
	"context"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
)

// InterestConfig configures an Interest (see kvwatch.CacheConfig; JS is
// required, OnChange unused).
type InterestConfig = kvwatch.CacheConfig

// Interest is a process's view of which apps a console watches, from
// the interest bucket. Watched is one atomic load and one map lookup:
// it is called wherever an event could happen, so an unwatched app costs
// only that.
type Interest struct {
	watcher *kvwatch.Watcher
	// keys are the live interest keys; only Run's goroutine uses them.
	keys map[string]struct{}
	// apps is an immutable set, replaced on every change.
	apps atomic.Pointer[map[string]struct{}]
	// changed is closed and replaced whenever apps is.
	changed atomic.Pointer[chan struct{}]
}

// NewInterest returns an Interest that watches nothing until Run has
// loaded the bucket.
func NewInterest(cfg InterestConfig) *Interest {
	i := &Interest{keys: map[string]struct{}{}}
	i.watcher = cfg.Watcher(Bucket, i.load, i.apply)
	empty := map[string]struct{}{}
	i.apps.Store(&empty)
	ch := make(chan struct{})
	i.changed.Store(&ch)
	return i
}

// Run loads the bucket, then follows it until ctx is done (see
// kvwatch.Watcher.Run).
func (i *Interest) Run(ctx context.Context) error { return i.watcher.Run(ctx) }

// Ready is closed once Run has loaded the bucket.
func (i *Interest) Ready() <-chan struct{} { return i.watcher.Ready() }

// Watched reports whether a console watches the app. A nil Interest
// watches nothing.
func (i *Interest) Watched(appID string) bool {
	if i == nil {
		return false
	}
	m := *i.apps.Load()
	if len(m) == 0 {
		return false
	}
	_, ok := m[appID]
	return ok
}

// waitWatched returns once the app is watched, or false when ctx ends
// first.
func (i *Interest) waitWatched(ctx context.Context, appID string) bool {
	for {
		changed := *i.changed.Load()
		if i.Watched(appID) {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

func (i *Interest) load(entries []jetstream.KeyValueEntry) {
	clear(i.keys)
	for _, kve := range entries {
		i.keys[kve.Key()] = struct{}{}
	}
	i.publish()
}

func (i *Interest) apply(batch []jetstream.KeyValueEntry) {
	for _, kve := range batch {
		if kve.Operation() == jetstream.KeyValuePut {
			i.keys[kve.Key()] = struct{}{}
		} else {
			delete(i.keys, kve.Key())
		}
	}
	i.publish()
}

// publish rebuilds the set of watched apps from the keys.
func (i *Interest) publish() {
	apps := make(map[string]struct{}, len(i.keys))
	for k := range i.keys {
		apps[appOfKey(k)] = struct{}{}
	}
	i.apps.Store(&apps)
	next := make(chan struct{})
	close(*i.changed.Swap(&next))
}
