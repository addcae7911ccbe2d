// Package appsync copies app configs from the control plane's store (the
// source of truth) to the HERALD_APPS KV bucket that gateways watch. The
// admin API calls SyncApp after every change; Run reconciles the whole
// bucket periodically to heal anything a crashed replica missed.
package appsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// DefaultInterval is the period of the full reconcile.
const DefaultInterval = 30 * time.Second

// MaxAttempts bounds the compare-and-set retries of one app's sync when
// other writers keep changing its entry.
const MaxAttempts = 5

// ErrContention is returned when an app's entry kept changing under every
// attempt to sync it.
var ErrContention = errors.New("app config changed concurrently")

// Source is the part of controlplane.Store the syncer reads. AppConfig
// returns an error matching channels.ErrNotFound for an app that does not
// exist (any more).
type Source interface {
	AppConfig(ctx context.Context, appID string) (channels.AppConfig, error)
	AppIDs(ctx context.Context) ([]string, error)
}

// Config configures a Syncer. Source and KV are required.
type Config struct {
	Source Source
	// KV is the HERALD_APPS bucket (see appconfig.EnsureBucket).
	KV jetstream.KeyValue
	// Interval is the full reconcile period; zero means DefaultInterval.
	Interval time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
	// SigningKeys and SigningKV, both or neither, make the syncer also
	// copy the live token signing keys to the HERALD_SIGNING_KEYS bucket
	// (see signingkeys.EnsureBucket), in every Reconcile and on
	// SyncSigningKeys.
	SigningKeys SigningKeySource
	SigningKV   jetstream.KeyValue
}

// Syncer publishes app configs. It is safe for concurrent use, and
// several control-plane replicas may run one each: every write is a
// compare-and-set on the entry's KV revision, read before the source, so a
// slow writer holding an older config can never overwrite a newer one.
type Syncer struct {
	src      Source
	kv       jetstream.KeyValue
	interval time.Duration
	log      *slog.Logger

	signingSrc SigningKeySource
	signingKV  jetstream.KeyValue
}

var _ controlplane.ConfigPublisher = (*Syncer)(nil)

// New returns a Syncer.
func New(cfg Config) (*Syncer, error) {
	if cfg.Source == nil || cfg.KV == nil {
		return nil, errors.New("appsync: Source and KV are required")
	}
	if (cfg.SigningKeys == nil) != (cfg.SigningKV == nil) {
		return nil, errors.New("appsync: SigningKeys and SigningKV go together")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{src: cfg.Source, kv: cfg.KV, interval: cfg.Interval, log: cfg.Logger,
		signingSrc: cfg.SigningKeys, signingKV: cfg.SigningKV}, nil
}

// SyncApp publishes appID's current config, or deletes its entry when the
// app no longer exists. It returns once the bucket holds the change, so
// gateways see it about as fast as their watch delivers.
func (s *Syncer) SyncApp(ctx context.Context, appID string) error {
	if err := channels.ValidateAppID(appID); err != nil {
		return fmt.Errorf("sync app: %w", err)
	}
	if _, err := s.sync(ctx, appID, nil); err != nil {
		return fmt.Errorf("sync app %s: %w", appID, err)
	}
	return nil
}

// current is an entry as read from KV before the source; nil value means
// absent or deleted.
type current struct {
	rev   uint64
	value []byte
}

// outcome says what one sync did.
type outcome int

const (
	unchanged outcome = iota
	written
	deleted
)

// sync makes appID's entry match the source. known, if not nil, is the
// entry as read (before the source) by the caller; conflicts fall back to
// reading it afresh.
func (s *Syncer) sync(ctx context.Context, appID string, known *current) (outcome, error) {
	for range MaxAttempts {
		cur := known
		known = nil
		if cur == nil {
			var err error
			if cur, err = s.read(ctx, appID); err != nil {
				return unchanged, err
			}
		}
		out, err := s.syncOnce(ctx, appID, *cur)
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			s.log.Debug("app config changed concurrently; retrying", slog.String("app", appID))
			continue
		}
		return out, err
	}
	return unchanged, ErrContention
}

// read returns appID's current entry.
func (s *Syncer) read(ctx context.Context, appID string) (*current, error) {
	e, err := s.kv.Get(ctx, appID)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return &current{}, nil
	case err != nil:
		return nil, fmt.Errorf("read entry: %w", err)
	}
	return &current{rev: e.Revision(), value: e.Value()}, nil
}

// syncOnce reads the source and writes conditionally on cur.rev.
func (s *Syncer) syncOnce(ctx context.Context, appID string, cur current) (outcome, error) {
	cfg, err := s.src.AppConfig(ctx, appID)
	if errors.Is(err, channels.ErrNotFound) {
		if cur.value == nil {
			return unchanged, nil
		}
		if err := s.kv.Delete(ctx, appID, jetstream.LastRevision(cur.rev)); err != nil {
			return unchanged, fmt.Errorf("delete entry: %w", err)
		}
		s.log.Debug("app config removed", slog.String("app", appID))
		return deleted, nil
	}
	if err != nil {
		return unchanged, fmt.Errorf("load config: %w", err)
	}
	if cfg.ID != appID {
		return unchanged, fmt.Errorf("load config: source returned app %q", cfg.ID)
	}
	value, err := appconfig.Encode(cfg)
	if err != nil {
		return unchanged, err
	}
	if cur.value != nil && bytes.Equal(cur.value, value) {
		return unchanged, nil
	}
	if cur.value == nil {
		// Create also succeeds over a delete marker.
		_, err = s.kv.Create(ctx, appID, value)
	} else {
		_, err = s.kv.Update(ctx, appID, value, cur.rev)
	}
	if err != nil {
		return unchanged, fmt.Errorf("write entry: %w", err)
	}
	s.log.Debug("app config published", slog.String("app", appID))
	return written, nil
}
