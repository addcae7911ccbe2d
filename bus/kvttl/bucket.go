package kvttl

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureBucket creates the lease bucket cfg names (its Bucket,
// Description and, where it has one, RePublish) or brings an existing one
// to this shape: the latest value of each key only, on disk, replicas
// (< 1 means 1), and LimitMarkerTTL markerTTL, so that a key's expiry
// leaves a delete marker its watchers see. The shape every bucket of
// per-key TTLs shares: presence members, the gateway registry, webhook
// state.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, replicas int, markerTTL time.Duration) error {
	cfg.History = 1
	cfg.Storage = jetstream.FileStorage
	cfg.Replicas = max(replicas, 1)
	cfg.LimitMarkerTTL = Round(markerTTL)
	if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", cfg.Bucket, err)
	}
	return nil
}
