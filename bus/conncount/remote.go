package conncount

import (
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// remoteShards spreads the remote counts over several locks, so that the
// watch folding in updates holds up few of the lookups every connection
// attempt makes.
const remoteShards = 32

// remote is the other gateways' counts, from the bucket watch.
type remote struct {
	self  string
	seed  maphash.Seed
	log   *slog.Logger
	shard [remoteShards]remoteShard
}

type remoteShard struct {
	mu sync.RWMutex
	// byApp maps app -> gateway -> that gateway's latest entry.
	byApp map[string]map[string]Entry
}

func newRemote(self string, log *slog.Logger) *remote {
	r := &remote{self: self, seed: maphash.MakeSeed(), log: log}
	for i := range r.shard {
		r.shard[i].byApp = map[string]map[string]Entry{}
	}
	return r
}

func (r *remote) shardOf(appID string) *remoteShard {
	return &r.shard[maphash.String(r.seed, appID)%remoteShards]
}

// sum adds up app's entries that were updated within staleAfter of now.
func (r *remote) sum(appID string, now time.Time, staleAfter time.Duration) int {
	s := r.shardOf(appID)
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, e := range s.byApp[appID] {
		if now.Sub(e.UpdatedAt) <= staleAfter {
			n += e.Count
		}
	}
	return n
}

// total adds up every app's fresh entries.
func (r *remote) total(now time.Time, staleAfter time.Duration) int {
	n := 0
	for i := range r.shard {
		s := &r.shard[i]
		s.mu.RLock()
		for _, gws := range s.byApp {
			for _, e := range gws {
				if now.Sub(e.UpdatedAt) <= staleAfter {
					n += e.Count
				}
			}
		}
		s.mu.RUnlock()
	}
	return n
}

// load replaces every shard with entries: a complete reload of the bucket.
func (r *remote) load(entries []jetstream.KeyValueEntry) {
	var fresh [remoteShards]map[string]map[string]Entry
	for i := range fresh {
		fresh[i] = map[string]map[string]Entry{}
	}
	for _, kve := range entries {
		appID, gw, e, put, ok := r.decode(kve)
		if !ok || !put {
			continue
		}
		m := fresh[maphash.String(r.seed, appID)%remoteShards]
		if m[appID] == nil {
			m[appID] = map[string]Entry{}
		}
		m[appID][gw] = e
	}
	for i := range r.shard {
		s := &r.shard[i]
		s.mu.Lock()
		s.byApp = fresh[i]
		s.mu.Unlock()
	}
}

// apply folds a batch of updates in, in order.
func (r *remote) apply(batch []jetstream.KeyValueEntry) {
	for _, kve := range batch {
		appID, gw, e, put, ok := r.decode(kve)
		if !ok {
			continue
		}
		s := r.shardOf(appID)
		s.mu.Lock()
		if put {
			if s.byApp[appID] == nil {
				s.byApp[appID] = map[string]Entry{}
			}
			s.byApp[appID][gw] = e
		} else {
			deleteLocked(s, appID, gw)
		}
		s.mu.Unlock()
	}
}

// prune forgets entries that stopped counting, so that dead gateways'
// entries do not pile up between reloads.
func (r *remote) prune(now time.Time, staleAfter time.Duration) {
	for i := range r.shard {
		s := &r.shard[i]
		s.mu.Lock()
		for appID, gws := range s.byApp {
			for gw, e := range gws {
				if now.Sub(e.UpdatedAt) > staleAfter {
					deleteLocked(s, appID, gw)
				}
			}
		}
		s.mu.Unlock()
	}
}

// deleteLocked removes one entry; s.mu must be held for writing.
func deleteLocked(s *remoteShard, appID, gw string) {
	gws := s.byApp[appID]
	delete(gws, gw)
	if len(gws) == 0 {
		delete(s.byApp, appID)
	}
}

// decode reads one watch entry: put is false for a delete. ok is false
// for this gateway's own keys, which Remote must not count, and for
// malformed keys.
func (r *remote) decode(kve jetstream.KeyValueEntry) (appID, gw string, e Entry, put, ok bool) {
	appID, gw, err := ParseKey(kve.Key())
	if err != nil {
		r.log.Warn("skipping malformed connection count key", slog.String("key", kve.Key()))
		return "", "", Entry{}, false, false
	}
	if gw == r.self {
		return "", "", Entry{}, false, false
	}
	if kve.Operation() != jetstream.KeyValuePut {
		return appID, gw, Entry{}, false, true
	}
	e, err = Decode(kve.Value())
	if err != nil {
		// A value nobody can read must not keep an older count alive.
		r.log.Warn("dropping malformed connection count", slog.String("key", kve.Key()), slog.Any("error", err))
		return appID, gw, Entry{}, false, true
	}
	return appID, gw, e, true, true
}
