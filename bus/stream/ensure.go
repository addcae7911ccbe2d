package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
)

// Defaults for zero StreamConfig fields (docs/nats.md, "Message stream").
const (
	// DefaultMaxAge is how long the stream keeps messages: a buffer sized
	// for the longest history-writer outage, not a tenant's retention.
	DefaultMaxAge = 24 * time.Hour
	// DefaultDuplicates is the Nats-Msg-Id deduplication window.
	DefaultDuplicates = 2 * time.Minute
	// DefaultStreamMaxBytes leaves the stream's size unlimited (MaxAge bounds it).
	DefaultStreamMaxBytes = -1
	// DefaultReplicas is for a single server; clusters use 3.
	DefaultReplicas = 1
)

// StreamConfig configures the message stream of one shard. Zero fields take
// the defaults above.
type StreamConfig struct {
	// Shard is the shard number; 0 is HERALD_MSG. Apps are mapped to shards
	// by their config once there is more than one.
	Shard      int
	Replicas   int
	MaxAge     time.Duration
	Duplicates time.Duration
	MaxBytes   int64
	// MaxMsgSize caps a stored message (body and headers); 0 leaves it to
	// the server.
	MaxMsgSize int32
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Replicas <= 0 {
		c.Replicas = DefaultReplicas
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Duplicates <= 0 {
		c.Duplicates = DefaultDuplicates
	}
	// The server refuses a duplicate window longer than MaxAge.
	if c.Duplicates > c.MaxAge {
		c.Duplicates = c.MaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultStreamMaxBytes
	}
	return c
}

// StreamName is the name of a shard's stream: HERALD_MSG for shard 0,
// HERALD_MSG_<n> after it.
func StreamName(shard int) string {
	if shard == 0 {
		return channels.MessageStream
	}
	return channels.MessageStream + "_" + strconv.Itoa(shard)
}

// shardSubjects is the filter of a shard's stream: herald.msg.<shard>.>.
func shardSubjects(shard int) string {
	return channels.MessageSubjectPrefix + "." + strconv.Itoa(shard) + ".>"
}

// streamConfig is the JetStream configuration Ensure applies.
func streamConfig(c StreamConfig) jetstream.StreamConfig {
	subjects := shardSubjects(c.Shard)
	return jetstream.StreamConfig{
		Name:        StreamName(c.Shard),
		Description: "Herald messages, shard " + strconv.Itoa(c.Shard),
		Subjects:    []string{subjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		MaxAge:      c.MaxAge,
		MaxBytes:    c.MaxBytes,
		MaxMsgs:     -1,
		MaxMsgSize:  c.MaxMsgSize,
		Duplicates:  c.Duplicates,
		AllowDirect: true,
		// herald.msg.<shard>.<app>.<chan> -> herald.live.<app>.<chan>: the
		// literal tokens are replaced and the tail carried over, which drops
		// the shard, so gateways never need to know an app's shard.
		RePublish: &jetstream.RePublish{
			Source:      subjects,
			Destination: channels.LiveSubjectPrefix + ".>",
		},
	}
}

// Ensure creates the shard's message stream or brings an existing one to
// cfg. It is idempotent and safe to call from several processes at once.
func Ensure(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	sc := streamConfig(cfg.withDefaults())
	_, err := js.CreateOrUpdateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another process created the stream between our update and create
		// attempts, with a different config: update it to ours.
		_, err = js.UpdateStream(ctx, sc)
	}
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", sc.Name, classify(err))
	}
	return nil
}
