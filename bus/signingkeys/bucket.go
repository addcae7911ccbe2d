// Package signingkeys is the HERALD_SIGNING_KEYS KV bucket, both sides:
// the control plane writes the public half of every live token signing
// key under its kid (and deletes retired ones), and every gateway keeps a
// Cache that watches the bucket, so that platform tokens (EdDSA) are
// verified offline and a retired key stops verifying about a second after
// the change.
//
// Control planes keep the same Cache: the REST API looks apps and keys up
// in it too.
package signingkeys

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket that holds public signing keys, one key per kid.
const Bucket = "HERALD_SIGNING_KEYS"

// ErrMalformed marks a value that does not decode to a valid Key.
var ErrMalformed = errors.New("malformed signing key")

// kidPattern is the shape of a kid: also a valid KV key.
var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Key is one live public signing key.
type Key struct {
	KID string `json:"kid"`
	// PublicKey is the raw Ed25519 public key (base64 in JSON).
	PublicKey ed25519.PublicKey `json:"public_key"`
}

// EnsureBucket creates the bucket or updates its configuration.
// replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	return kvwatch.EnsureLatestBucket(ctx, js, Bucket, "Herald token signing public keys, written by the control plane, watched by gateways", replicas)
}

// Encode is the one encoding of a Key in the bucket.
func Encode(k Key) ([]byte, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(k)
}

// Decode parses a value written by Encode; errors wrap ErrMalformed.
func Decode(data []byte) (Key, error) {
	var k Key
	if err := json.Unmarshal(data, &k); err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := k.validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

func (k Key) validate() error {
	if !kidPattern.MatchString(k.KID) {
		return fmt.Errorf("%w: kid must match %s", ErrMalformed, kidPattern)
	}
	if len(k.PublicKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key of %d bytes, want %d", ErrMalformed, len(k.PublicKey), ed25519.PublicKeySize)
	}
	return nil
}

// SyncStats counts what Sync did.
type SyncStats struct {
	Written, Deleted, Unchanged int
}

// Sync makes the bucket hold exactly keys: missing or different entries
// are written and every other entry is deleted. It is idempotent, so
// several control planes may run it at once; the store is the source of
// truth and the last writer writes the same set.
func Sync(ctx context.Context, kv jetstream.KeyValue, keys []Key) (SyncStats, error) {
	var st SyncStats
	want := make(map[string][]byte, len(keys))
	for _, k := range keys {
		b, err := Encode(k)
		if err != nil {
			return st, err
		}
		want[k.KID] = b
	}
	present, err := kv.ListKeys(ctx)
	if err != nil {
		return st, fmt.Errorf("list signing keys in %s: %w", Bucket, err)
	}
	var stale []string
	for kid := range present.Keys() {
		if _, ok := want[kid]; !ok {
			stale = append(stale, kid)
		}
	}
	// The lister has stopped itself once its channel closed.
	_ = present.Stop()
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("list signing keys in %s: %w", Bucket, err)
	}
	for kid, b := range want {
		e, err := kv.Get(ctx, kid)
		switch {
		case err == nil && bytes.Equal(e.Value(), b):
			st.Unchanged++
			continue
		case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
			return st, fmt.Errorf("read signing key %s: %w", kid, err)
		}
		if _, err := kv.Put(ctx, kid, b); err != nil {
			return st, fmt.Errorf("write signing key %s: %w", kid, err)
		}
		st.Written++
	}
	for _, kid := range stale {
		if err := kv.Delete(ctx, kid); err != nil {
			return st, fmt.Errorf("delete signing key %s: %w", kid, err)
		}
		st.Deleted++
	}
	return st, nil
}
