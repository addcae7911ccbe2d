package appconfig

import (
	"context"
	"log/slog"
	"sort"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/channels"
)

// ErrAlreadyRunning is returned by a second concurrent call to Run.
var ErrAlreadyRunning = kvwatch.ErrAlreadyRunning

// CacheConfig configures a Cache. JS is required; Bucket defaults to
// Bucket. OnChange, if set, is called with the id of every app whose entry
// was added, changed or removed, after the new state is visible to App and
// ByKey.
type CacheConfig = kvwatch.CacheConfig

// Cache is a gateway's local copy of the bucket. Lookups are lock-free
// reads of an immutable snapshot that Run replaces on every change.
type Cache struct {
	onChange func(appID string)
	watcher  *kvwatch.Watcher
	log      *slog.Logger
	snap     atomic.Pointer[snapshot]
}

// NewCache returns a cache that is empty until Run has loaded the bucket.
func NewCache(cfg CacheConfig) *Cache {
	c := &Cache{onChange: cfg.OnChange}
	c.watcher = cfg.Watcher(Bucket, c.load, c.applyBatch)
	c.log = c.watcher.Logger()
	c.snap.Store(&snapshot{})
	return c
}

// Run loads the bucket, then applies updates until ctx is done, when it
// returns nil; see kvwatch.Watcher.Run for how it recovers from failures
// and when it returns an error. Lookups keep answering from the last
// state while it recovers.
func (c *Cache) Run(ctx context.Context) error { return c.watcher.Run(ctx) }

// Ready is closed once Run has loaded every entry present when it first
// watched the bucket. Until then every lookup misses.
func (c *Cache) Ready() <-chan struct{} { return c.watcher.Ready() }

// App returns the config of app id. The result is shared and must not be
// modified.
func (c *Cache) App(id string) (*channels.AppConfig, bool) {
	e, ok := c.snap.Load().apps[id]
	if !ok {
		return nil, false
	}
	return e.cfg, true
}

// ByKey returns the config of the app that owns the live key, whether or
// not the app is enabled. The result is shared and must not be modified.
func (c *Cache) ByKey(key string) (*channels.AppConfig, bool) {
	cfg, ok := c.snap.Load().byKey[key]
	return cfg, ok
}

// AccountApps returns the configs of the account's apps. The result is
// shared and must not be modified.
func (c *Cache) AccountApps(accountID string) []*channels.AppConfig {
	return c.snap.Load().byAccount[accountID]
}

// Len returns the number of apps in the cache.
func (c *Cache) Len() int { return len(c.snap.Load().apps) }

// entry is one decoded app config and the KV revision it came from.
type entry struct {
	cfg *channels.AppConfig
	rev uint64
}

// snapshot is immutable once published.
type snapshot struct {
	apps      map[string]entry
	byKey     map[string]*channels.AppConfig
	byAccount map[string][]*channels.AppConfig
}

// publish builds the key index for apps, stores the snapshot and reports
// the changed ids to OnChange. apps must not be modified afterwards.
func (c *Cache) publish(apps map[string]entry, changed []string) {
	c.snap.Store(&snapshot{apps: apps, byKey: c.indexKeys(apps), byAccount: indexAccounts(apps)})
	if c.onChange == nil {
		return
	}
	sort.Strings(changed)
	for _, id := range changed {
		c.onChange(id)
	}
}

// indexKeys maps each live key to its app. A key claimed by two apps is a
// bug upstream; it is left out (fail closed) rather than routing clients
// to whichever app came first.
func (c *Cache) indexKeys(apps map[string]entry) map[string]*channels.AppConfig {
	byKey := make(map[string]*channels.AppConfig, len(apps))
	var dup map[string]bool
	for _, e := range apps {
		for _, k := range e.cfg.Keys {
			if other, ok := byKey[k.Key]; ok && other.ID != e.cfg.ID {
				if dup == nil {
					dup = make(map[string]bool)
				}
				dup[k.Key] = true
				continue
			}
			byKey[k.Key] = e.cfg
		}
	}
	for k := range dup {
		delete(byKey, k)
		c.log.Warn("app key claimed by several apps; ignoring it", slog.String("key", k))
	}
	return byKey
}

// indexAccounts lists each account's apps, for account-wide quotas.
func indexAccounts(apps map[string]entry) map[string][]*channels.AppConfig {
	byAccount := make(map[string][]*channels.AppConfig)
	for _, e := range apps {
		byAccount[e.cfg.AccountID] = append(byAccount[e.cfg.AccountID], e.cfg)
	}
	return byAccount
}

// decode turns a KV entry into a cache entry. ok is false for deletes and
// for malformed values, which are logged (never their content) and treated
// as absent: a value the gateway cannot read must not keep an older,
// possibly revoked config alive.
func (c *Cache) decode(kve jetstream.KeyValueEntry) (entry, bool) {
	if kve.Operation() != jetstream.KeyValuePut {
		return entry{}, false
	}
	cfg, err := Decode(kve.Value())
	if err == nil && cfg.ID != kve.Key() {
		err = ErrMalformed
	}
	if err != nil {
		c.log.Warn("skipping malformed app config",
			slog.String("key", kve.Key()), slog.Uint64("revision", kve.Revision()), slog.Any("error", err))
		return entry{}, false
	}
	return entry{cfg: &cfg, rev: kve.Revision()}, true
}

// load publishes a complete reload and reports every id whose entry
// appeared, disappeared or changed revision.
func (c *Cache) load(entries []jetstream.KeyValueEntry) {
	apps := make(map[string]entry, len(entries))
	for _, kve := range entries {
		if e, ok := c.decode(kve); ok {
			apps[kve.Key()] = e
		}
	}
	old := c.snap.Load().apps
	var changed []string
	for id, e := range apps {
		if o, ok := old[id]; !ok || o.rev != e.rev {
			changed = append(changed, id)
		}
	}
	for id := range old {
		if _, ok := apps[id]; !ok {
			changed = append(changed, id)
		}
	}
	c.publish(apps, changed)
}

// applyBatch publishes the snapshot with a batch of live updates folded in.
func (c *Cache) applyBatch(batch []jetstream.KeyValueEntry) {
	old := c.snap.Load().apps
	apps := make(map[string]entry, len(old)+len(batch))
	for id, e := range old {
		apps[id] = e
	}
	seen := make(map[string]bool, len(batch))
	changed := make([]string, 0, len(batch))
	for _, kve := range batch {
		id := kve.Key()
		if e, ok := c.decode(kve); ok {
			apps[id] = e
		} else {
			delete(apps, id)
		}
		if !seen[id] {
			seen[id] = true
			changed = append(changed, id)
		}
	}
	c.publish(apps, changed)
}
