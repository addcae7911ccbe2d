// Package logstream ensures the small JetStream streams that processes
// publish records to and durable consumers in the control plane drain:
// meter flushes (bus/meter) and webhook events (bus/webhookevents). Each
// is a file stream with limits retention, a maximum age (the longest
// outage of its consumers it rides out) and a Nats-Msg-Id window.
package logstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero Config fields.
const (
	// DefaultMaxAge is how long a record waits for its consumer.
	DefaultMaxAge = 24 * time.Hour
	// DefaultDuplicates is the Nats-Msg-Id window in which a record
	// published again (a retry after a lost acknowledgement) is dropped.
	DefaultDuplicates = 2 * time.Minute
	// DefaultReplicas is for a single server; clusters use 3.
	DefaultReplicas = 1
)

// Config configures a stream; zero fields take the defaults.
type Config struct {
	Replicas   int
	MaxAge     time.Duration
	Duplicates time.Duration
}

// WithDefaults fills zero fields with the defaults.
func (c Config) WithDefaults() Config {
	c.Replicas = defaults.Positive(c.Replicas, DefaultReplicas)
	c.MaxAge = defaults.Positive(c.MaxAge, DefaultMaxAge)
	c.Duplicates = defaults.Positive(c.Duplicates, DefaultDuplicates)
	// The server refuses a duplicate window longer than MaxAge.
	c.Duplicates = min(c.Duplicates, c.MaxAge)
	return c
}

// Ensure creates the stream name over subjects or brings it to cfg;
// idempotent and safe to call from several processes at once.
func Ensure(ctx context.Context, js jetstream.JetStream, name, description string, subjects []string, cfg Config) error {
	cfg = cfg.WithDefaults()
	sc := jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    subjects,
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
		return fmt.Errorf("ensure stream %s: %w", name, err)
	}
	return nil
}
