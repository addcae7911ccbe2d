// Package conncount keeps cluster-wide connection counts per app, so that
// an app's max_connections holds across every gateway rather than on each
// one. Each gateway reports its own counts of the apps that have a limit
// (the snapshot it is given decides which) into the
// HERALD_CONN_COUNTS KV bucket, one key <app>.<gateway>, and watches the
// bucket to learn the others' counts. A Counter does both.
//
// The counts are eventually consistent: a gateway admits against what the
// others reported up to one report interval ago, so bursts on several
// gateways at once can overshoot the limit by what they admit in that
// interval. A dead gateway's entries stop counting once they are older
// than the stale-after window; nothing has to delete them.
package conncount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket of per-gateway connection counts.
const Bucket = "HERALD_CONN_COUNTS"

// BucketMaxAge garbage-collects entries nobody deleted (a gateway that
// died). Expiry makes no watch event, so readers judge freshness by the
// entry's UpdatedAt instead; this only bounds the bucket's size. It is
// far above any sane refresh interval, so a live entry never expires.
const BucketMaxAge = time.Hour

// ErrMalformed marks a key or value that does not decode.
var ErrMalformed = errors.New("malformed connection count")

// Entry is one gateway's connection count of one app.
type Entry struct {
	Count     int       `json:"count"`
	UpdatedAt time.Time `json:"updated_at"`
}

// EnsureBucket creates the bucket or updates its configuration.
// replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Herald connection counts per app and gateway, written and watched by gateways",
		History:     1,
		TTL:         BucketMaxAge,
		// Counts are refreshed every few seconds and worthless after a
		// restart of the servers: memory spares the disk the churn.
		Storage:  jetstream.MemoryStorage,
		Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("ensure bucket %s: %w", Bucket, err)
	}
	return kv, nil
}

// Key is the bucket key of app's count on gateway. App ids and gateway
// ids both match [A-Za-z0-9_-], which the KV key alphabet holds, and
// neither holds a '.', so the key needs no further encoding and splits
// back unambiguously.
func Key(appID, gatewayID string) (string, error) {
	if err := channels.ValidateAppID(appID); err != nil {
		return "", err
	}
	if err := gateways.ValidateGatewayID(gatewayID); err != nil {
		return "", err
	}
	return appID + "." + gatewayID, nil
}

// ParseKey is the inverse of Key.
func ParseKey(key string) (appID, gatewayID string, err error) {
	appID, gatewayID, ok := strings.Cut(key, ".")
	if !ok || channels.ValidateAppID(appID) != nil || gateways.ValidateGatewayID(gatewayID) != nil {
		return "", "", fmt.Errorf("%w: key %q", ErrMalformed, key)
	}
	return appID, gatewayID, nil
}

// Encode is the one encoding of an Entry in the bucket.
func Encode(e Entry) ([]byte, error) {
	if e.Count < 0 {
		return nil, fmt.Errorf("%w: negative count %d", ErrMalformed, e.Count)
	}
	return json.Marshal(e)
}

// Decode parses a value written by Encode; errors wrap ErrMalformed.
func Decode(data []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if e.Count < 0 || e.UpdatedAt.IsZero() {
		return Entry{}, fmt.Errorf("%w: count %d at %v", ErrMalformed, e.Count, e.UpdatedAt)
	}
	return e, nil
}
