// Package debugstream is the live debug stream of the console over NATS
// (docs/console.md, "Debug stream"): the interest bucket
// HERALD_DEBUG_INTEREST, where a control plane serving a console marks an
// app as watched; Interest, every process's lock-free copy of which apps
// are watched; Publisher, through which gateways, the tenant API and the
// webhook dispatcher publish an app's channels.DebugEvent to
// channels.DebugSubject only while it is watched, capped per app; and
// Watchers, the control plane's side that keeps the interest alive and
// reads an app's events for one console.
package debugstream

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvttl"
)

// Bucket is the KV bucket of interest: one key per watching process and
// app, "<app>.<holder>", with a per-key TTL.
const Bucket = "HERALD_DEBUG_INTEREST"

// Defaults for zero config fields (README, --debug-*).
const (
	// DefaultInterestTTL is how long an interest key lives without
	// renewal: a control plane that died stops costing the app's
	// gateways anything after it. Keys are renewed every third of it.
	DefaultInterestTTL = 10 * time.Second
	// DefaultEventsPerSecond caps an app's debug events per second, per
	// process publishing them and per console reading them.
	DefaultEventsPerSecond = 500
	// DefaultBuffer is how many events wait for a slow console before
	// more are dropped (and counted).
	DefaultBuffer = 1024
)

// dropReportInterval is how often dropped events are reported: at most
// one dropped event per app and second.
const dropReportInterval = time.Second

// EnsureBucket creates the interest bucket or brings it to its shape.
// Expired keys leave markers for ttl (at least kvttl.MinTTL), so that
// watchers see them go. replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) error {
	return kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Herald debug stream interest: one key per app a console watches, with a TTL",
	}, replicas, max(ttl, kvttl.MinTTL))
}

// key is the interest key of app held by holder.
func key(appID, holder string) string { return appID + "." + holder }

// appOfKey returns the app of an interest key. App ids hold no dot
// (channels.ValidateAppID).
func appOfKey(k string) string {
	app, _, _ := strings.Cut(k, ".")
	return app
}

// subject is the KV subject of an interest key.
func subject(k string) string { return "$KV." + Bucket + "." + k }
