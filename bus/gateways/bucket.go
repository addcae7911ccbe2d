package gateways

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvttl"
)

// DefaultMarkerTTL is how long delete markers stay in the bucket when
// EnsureBucket is given less than kvttl.MinTTL. It is at least a
// registration's default TTL so that a watcher that reconnects still sees
// the gateways that died meanwhile.
const DefaultMarkerTTL = 30 * time.Second

// EnsureBucket creates the bucket or updates its configuration. Every
// key carries its own TTL, and LimitMarkerTTL makes expiries leave delete
// markers that watchers see. markerTTL < kvttl.MinTTL means
// DefaultMarkerTTL; replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int, markerTTL time.Duration) error {
	if markerTTL < kvttl.MinTTL {
		markerTTL = DefaultMarkerTTL
	}
	return kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Herald gateway registry: one key per running gateway, heartbeated",
	}, replicas, markerTTL)
}
