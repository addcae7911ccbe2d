// Package meter is the NATS contract of usage metering (docs/billing.md):
// the HERALD_METER stream that every process publishes its meter flushes
// to, and the durable consumers that fold flushes and count published
// messages. The payload of a flush is billing's; this package only moves
// bytes with their Nats-Msg-Id.
package meter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/defaults"
)

// Names of the stream, its subjects and the durable consumers.
const (
	// Stream holds meter flushes until the control plane folds them.
	Stream = "HERALD_METER"
	// SubjectPrefix starts every flush subject: herald.meter.flush.<process>.
	SubjectPrefix = "herald.meter.flush"
	// FlushConsumer is the durable consumer on Stream that every control
	// plane shares to fold flushes into Postgres.
	FlushConsumer = "herald-meter-flushes"
	// PublishedConsumer is the durable consumer on each message stream
	// (HERALD_MSG, HERALD_MSG_<n>) that counts published messages.
	PublishedConsumer = "herald-meter"
)

// Defaults for zero StreamConfig fields.
const (
	// DefaultMaxAge is how long a flush waits in the stream for a control
	// plane to fold it: the longest control-plane outage metering rides
	// out. The aggregator remembers folded flush ids for as long.
	DefaultMaxAge = 24 * time.Hour
	// DefaultDuplicates is the Nats-Msg-Id window in which a flush
	// published again (a retry after a lost acknowledgement) is dropped by
	// the server; the aggregator drops later copies itself.
	DefaultDuplicates = 2 * time.Minute
	// DefaultReplicas is for a single server; clusters use 3.
	DefaultReplicas = 1
)

// StreamConfig configures the flush stream; zero fields take the defaults.
type StreamConfig struct {
	Replicas   int
	MaxAge     time.Duration
	Duplicates time.Duration
}

// WithDefaults fills zero fields with the defaults.
func (c StreamConfig) WithDefaults() StreamConfig {
	c.Replicas = defaults.Positive(c.Replicas, DefaultReplicas)
	c.MaxAge = defaults.Positive(c.MaxAge, DefaultMaxAge)
	c.Duplicates = defaults.Positive(c.Duplicates, DefaultDuplicates)
	// The server refuses a duplicate window longer than MaxAge.
	c.Duplicates = min(c.Duplicates, c.MaxAge)
	return c
}

// Subject is where process publishes its flushes. Process ids are
// single NATS tokens (gateway ids, control plane ids).
func Subject(process string) string { return SubjectPrefix + "." + process }

// EnsureStream creates the flush stream or brings it to cfg; idempotent
// and safe to call from several processes at once.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	cfg = cfg.WithDefaults()
	sc := jetstream.StreamConfig{
		Name:        Stream,
		Description: "Herald usage meter flushes",
		Subjects:    []string{SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.MaxAge,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		Duplicates:  cfg.Duplicates,
	}
	_, err := js.CreateOrUpdateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		_, err = js.UpdateStream(ctx, sc)
	}
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", Stream, err)
	}
	return nil
}

// Publish stores one flush under its id and waits for the stream's
// acknowledgement. Publishing the same id again within the duplicate
// window stores nothing: a retry must reuse the id and the payload.
func Publish(ctx context.Context, js jetstream.JetStream, process, id string, payload []byte) error {
	msg := &nats.Msg{Subject: Subject(process), Data: payload, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish meter flush %s: %w", id, err)
	}
	return nil
}
