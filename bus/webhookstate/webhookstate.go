// Package webhookstate turns what gateways hold into the cluster-wide
// webhook events of channels (docs/architecture.md, "Webhook events"):
// channel_occupied, channel_vacated, member_added, member_removed and
// subscription_count.
//
// Each gateway reports, for every channel of an app that wants one of
// those kinds, what it holds locally: one key <app>.<chan>.<gateway> in the
// HERALD_WEBHOOK_STATE KV bucket, whose value is its local subscription
// count and presence users, written when the gateway's share changes and
// purged when its last local subscriber leaves (a Reporter). The control
// plane watches the bucket and folds the keys of a channel into its
// cluster-wide state (a Decider, with the rules in Transitions): the
// channel is occupied while any gateway has a key, a user is a member
// while any gateway lists it. Because one ordered stream (the bucket's)
// carries every gateway's changes, every Decider sees the same
// transitions in the same order, and names each event after the bucket
// revision that caused it, so that two control planes publishing the same
// transition store it once (Nats-Msg-Id).
//
// A gateway that dies leaves its keys behind; once its registry entry
// (bus/gateways) is gone, the Decider purges them, and the transitions
// follow as for any leave. What the deciders reported is kept in
// ReportedBucket, so that a decider that starts reports what changed
// while none ran.
package webhookstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket of gateways' local channel state.
const Bucket = "HERALD_WEBHOOK_STATE"

// subjectPrefix is the bucket's stream subject prefix.
const subjectPrefix = "$KV." + Bucket + "."

// DefaultMarkerTTL is how long the marker of a purged key stays: long
// enough for a watcher that reconnects to see the purge, short enough that
// channels that come and go do not grow the bucket.
const DefaultMarkerTTL = 30 * time.Second

// ErrMalformed marks a key or value that does not decode.
var ErrMalformed = errors.New("malformed webhook state")

// EnsureBucket creates the bucket and ReportedBucket or updates their
// configuration.
// replicas < 1 means 1; markerTTL < kvttl.MinTTL means DefaultMarkerTTL.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int, markerTTL time.Duration) error {
	if markerTTL < kvttl.MinTTL {
		markerTTL = DefaultMarkerTTL
	}
	// File storage: a NATS restart must not make every channel look
	// vacated and then occupied again.
	err := kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Herald webhook state: each gateway's subscriptions and presence users per channel of apps with webhooks",
	}, replicas, markerTTL)
	if err != nil {
		return err
	}
	return kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      ReportedBucket,
		Description: "Herald webhook deciders' view: channels reported occupied and their reported members",
	}, replicas, markerTTL)
}

// ChannelRef names a channel of an app.
type ChannelRef struct {
	AppID   string
	Channel string
}

// Key is one gateway's share of one channel: a key of the bucket.
type Key struct {
	ChannelRef
	GatewayID string
}

// String is the bucket key <app>.<base64url(channel)>.<gateway>. App ids
// and gateway ids are [A-Za-z0-9_-] and the channel token is base64url,
// so the key has exactly three tokens.
func (k Key) String() string {
	return k.AppID + "." + channels.SubjectToken(k.Channel) + "." + k.GatewayID
}

// subject is the key's stream subject.
func (k Key) subject() string { return subjectPrefix + k.String() }

// ParseKey is the inverse of Key.String.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("key %q: %w", s, ErrMalformed)
	}
	if channels.ValidateAppID(parts[0]) != nil || gateways.ValidateGatewayID(parts[2]) != nil {
		return Key{}, fmt.Errorf("key %q: %w", s, ErrMalformed)
	}
	ch, err := channels.ParseSubjectToken(parts[1])
	if err != nil || ch == "" {
		return Key{}, fmt.Errorf("key %q: %w", s, ErrMalformed)
	}
	return Key{ChannelRef: ChannelRef{AppID: parts[0], Channel: ch}, GatewayID: parts[2]}, nil
}

// Value is what one gateway holds of a channel.
type Value struct {
	// Subscriptions is the gateway's local subscription count when the
	// app wants subscription_count, otherwise 1: the decider then only
	// needs to know the gateway holds the channel, and the key is not
	// rewritten on every subscribe.
	Subscriptions int64 `json:"subscriptions"`
	// Users are the distinct presence user ids of the gateway's local
	// subscribers, sorted, when the app wants member events.
	Users []string `json:"users,omitempty"`
}

// Encode is the one encoding of a Value in the bucket.
func (v Value) Encode() []byte {
	b, _ := json.Marshal(v) // a struct of an int and strings cannot fail
	return b
}

// DecodeValue parses a value written by Encode.
func DecodeValue(data []byte) (Value, error) {
	var v Value
	if err := json.Unmarshal(data, &v); err != nil {
		return Value{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !slices.IsSorted(v.Users) {
		slices.Sort(v.Users)
	}
	v.Users = slices.Compact(v.Users)
	return v, nil
}
