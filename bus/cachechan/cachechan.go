// Package cachechan keeps the last server-published event of every cache
// channel (docs/protocol.md, "Pusher compatibility") in the NATS KV bucket
// HERALD_CACHE, so that a subscriber on any gateway gets it replayed.
// Entries expire after the app's cache_ttl_s through per-message TTLs.
//
// Keys are <app>.<chan> (the channel as channels.SubjectToken). The
// control plane writes an entry on every REST publish to a cache channel;
// gateways read it when a client subscribes. Concurrent publishes finish
// in any order, so a write is a compare-and-swap on the key's last
// revision that keeps the entry with the highest serial.
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

// maxPutAttempts bounds the compare-and-swap loop of Put. Each lost
// attempt means another writer stored an entry, so a put gives up only
// under more concurrent writers to one channel than this.
const maxPutAttempts = 32

// ErrContended is returned by Put when every attempt lost to another
// writer.
var ErrContended = errors.New("cache entry contended")

// Entry is a cache channel's last event.
type Entry struct {
	Event     string    `json:"event"`
	Data      string    `json:"data"`
	Serial    uint64    `json:"serial"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Store reads and writes cache entries.
type Store struct {
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	stream jetstream.Stream // the bucket's stream, for the last revision of a key
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
	st, err := js.Stream(ctx, "KV_"+Bucket)
	if err != nil {
		return nil, fmt.Errorf("cache bucket stream: %w", err)
	}
	return &Store{js: js, kv: kv, stream: st}, nil
}

func key(appID, channel string) string { return appID + "." + channels.SubjectToken(channel) }

// Put stores e as the channel's entry for ttl, unless the entry there has
// a higher serial: the last event of a channel is the one the stream
// ordered last, whichever publish finished last.
func (s *Store) Put(ctx context.Context, appID, channel string, e Entry, ttl time.Duration) error {
	ttl = max(ttl, minTTL)
	subject := "$KV." + Bucket + "." + key(appID, channel)
	for range maxPutAttempts {
		rev, cur, live, err := s.last(ctx, subject)
		if err != nil {
			return err
		}
		if live && cur.Serial >= e.Serial {
			return nil
		}
		e.ExpiresAt = time.Now().Add(ttl).UTC()
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		// KeyValue.Update cannot set a TTL; publishing to the bucket's
		// subject with the expected last revision can.
		_, err = s.js.Publish(ctx, subject, b, jetstream.WithMsgTTL(ttl), jetstream.WithExpectLastSequencePerSubject(rev))
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("put cache entry: %w", err)
		}
	}
	return fmt.Errorf("put cache entry: %w", ErrContended)
}

// last returns the revision of subject's last message (0 when none) and
// the live entry it holds, if any. A delete or expiry marker holds none.
func (s *Store) last(ctx context.Context, subject string) (uint64, Entry, bool, error) {
	msg, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, Entry{}, false, nil
	}
	if err != nil {
		return 0, Entry{}, false, fmt.Errorf("read cache entry: %w", err)
	}
	var e Entry
	// An expired entry no longer counts: a stream recreated since then
	// numbers its messages from 1 again.
	if json.Unmarshal(msg.Data, &e) != nil || time.Now().After(e.ExpiresAt) {
		return msg.Sequence, Entry{}, false, nil
	}
	return msg.Sequence, e, true, nil
}

// isConflict reports whether a publish lost its compare-and-swap.
// Replicated streams report it with another code.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
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
