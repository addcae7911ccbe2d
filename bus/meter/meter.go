// Package meter is the NATS contract of usage metering (docs/billing.md):
// the HERALD_METER stream that every process publishes its meter flushes
// to, and the durable consumers that fold flushes and count published
// messages. The payload of a flush is billing's; this package only moves
// bytes with their Nats-Msg-Id.
package meter

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/logstream"
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

// StreamConfig configures the flush stream; zero fields take the
// logstream defaults: a flush waits up to a day for a control plane to
// fold it (the longest control-plane outage metering rides out; the
// aggregator remembers folded flush ids for as long), and a flush
// published again within two minutes is dropped by the server (the
// aggregator drops later copies itself).
type StreamConfig = logstream.Config

// The flush stream's defaults, which the aggregator's retention of folded
// flush ids and the consumers' replicas follow.
const (
	DefaultMaxAge     = logstream.DefaultMaxAge
	DefaultDuplicates = logstream.DefaultDuplicates
	DefaultReplicas   = logstream.DefaultReplicas
)

// Subject is where process publishes its flushes. Process ids are
// single NATS tokens (gateway ids, control plane ids).
func Subject(process string) string { return SubjectPrefix + "." + process }

// EnsureStream creates the flush stream or brings it to cfg; idempotent
// and safe to call from several processes at once.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	return logstream.Ensure(ctx, js, Stream, "Herald usage meter flushes", []string{SubjectPrefix + ".>"}, cfg)
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
