// Package cachechan keeps the last server-published event of every cache
// channel (docs/protocol.md, "Pusher compatibility") in the NATS KV bucket
// HERALD_CACHE, so that a subscriber on any gateway gets it replayed.
// Entries expire after the app's cache_ttl_s through per-message TTLs.
//
// Keys are <app>.<chan> (the channel as channels.SubjectToken). The
// control plane writes an entry on every REST publish to a cache channel;
// gateways read it when a client subscribes.
package cachechan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket of cache channel entries.
const Bucket = "HERALD_CACHE"

// minTTL is the shortest per-message TTL NATS accepts.
const minTTL = time.Second

// Entry is a cache channel's last event.
type Entry struct {
	Event     string    `json:"event"`
	Data      string    `json:"data"`
	Serial    uint64    `json:"serial"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Store reads and writes cache entries.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// Open ensures the bucket exists and returns a Store.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   Bucket,
		History:  1,
		Storage:  jetstream.FileStorage,
		Replicas: replicas,
		// Expired entries leave delete markers; they make per-message TTLs
		// possible on a KV bucket.
		LimitMarkerTTL: minTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("cache bucket: %w", err)
	}
	return &Store{js: js, kv: kv}, nil
}

func key(appID, channel string) string { return appID + "." + channels.SubjectToken(channel) }

// Put stores e as the channel's entry for ttl.
func (s *Store) Put(ctx context.Context, appID, channel string, e Entry, ttl time.Duration) error {
	ttl = max(ttl, minTTL)
	e.ExpiresAt = time.Now().Add(ttl).UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// KeyValue.Put cannot set a TTL; publishing to the bucket's subject can.
	if _, err := s.js.Publish(ctx, "$KV."+Bucket+"."+key(appID, channel), b, jetstream.WithMsgTTL(ttl)); err != nil {
		return fmt.Errorf("put cache entry: %w", err)
	}
	return nil
}

// Get returns the channel's live entry.
func (s *Store) Get(ctx context.Context, appID, channel string) (Entry, bool, error) {
	kve, err := s.kv.Get(ctx, key(appID, channel))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("get cache entry: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return Entry{}, false, fmt.Errorf("decode cache entry: %w", err)
	}
	// The server removes expired entries; this covers the moment between.
	if time.Now().After(e.ExpiresAt) {
		return Entry{}, false, nil
	}
	return e, true, nil
}
