package appsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/channels"
)

// Run reconciles the whole bucket at once and then every Interval until
// ctx is done, when it returns nil. A failed pass is logged and retried at
// the next tick: the admin API's SyncApp calls keep working meanwhile.
func (s *Syncer) Run(ctx context.Context) error {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("app config reconcile failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Stats counts what one reconcile did.
type Stats struct {
	Apps      int // apps in the source
	Written   int // entries created or updated
	Deleted   int // entries of apps that no longer exist
	Unchanged int
	Failed    int
}

// Reconcile makes the bucket match the source: every app's entry is
// written if it differs, and entries of apps that no longer exist are
// deleted. With signing keys configured, it also syncs those (retired
// keys are removed). Errors for single apps are counted and joined into the returned
// error; the pass goes on.
func (s *Syncer) Reconcile(ctx context.Context) (Stats, error) {
	var st Stats
	// Read the bucket before the source: an entry written after this
	// snapshot has a newer revision and makes the compare-and-set below
	// fail and retry, rather than be overwritten with older data.
	entries, err := s.snapshot(ctx)
	if err != nil {
		return st, err
	}
	ids, err := s.src.AppIDs(ctx)
	if err != nil {
		return st, fmt.Errorf("list apps: %w", err)
	}
	st.Apps = len(ids)

	var errs []error
	if s.signingKV != nil {
		if err := s.SyncSigningKeys(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	handle := func(id string, known *current) {
		out, err := s.sync(ctx, id, known)
		switch {
		case err != nil:
			st.Failed++
			errs = append(errs, fmt.Errorf("sync app %s: %w", id, err))
		case out == written:
			st.Written++
		case out == deleted:
			st.Deleted++
		default:
			st.Unchanged++
		}
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		cur, ok := entries[id]
		if !ok {
			cur = &current{}
		}
		delete(entries, id)
		handle(id, cur)
	}
	// What is left has no app in the listing. sync asks the source again,
	// so an app created since the listing keeps its entry.
	for id, cur := range entries {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		if channels.ValidateAppID(id) != nil {
			// No app can have this id; the source would only reject it.
			if err := s.kv.Delete(ctx, id, jetstream.LastRevision(cur.rev)); err != nil {
				st.Failed++
				errs = append(errs, fmt.Errorf("delete stray entry %q: %w", id, err))
			} else {
				st.Deleted++
			}
			continue
		}
		handle(id, cur)
	}

	level := slog.LevelDebug
	if st.Written+st.Deleted+st.Failed > 0 {
		level = slog.LevelInfo
	}
	s.log.Log(ctx, level, "app configs reconciled",
		slog.Int("apps", st.Apps), slog.Int("written", st.Written), slog.Int("deleted", st.Deleted),
		slog.Int("unchanged", st.Unchanged), slog.Int("failed", st.Failed))
	return st, errors.Join(errs...)
}

// snapshot reads every live entry with one watcher (one consumer) rather
// than a Get per app.
func (s *Syncer) snapshot(ctx context.Context) (map[string]*current, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("read bucket: %w", err)
	}
	defer func() { _ = kvwatch.Stop(w, stopDrainTimeout) }()
	entries := make(map[string]*current)
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read bucket: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("read bucket: watcher closed")
			}
			if e == nil {
				return entries, nil
			}
			if e.Operation() == jetstream.KeyValuePut {
				entries[e.Key()] = &current{rev: e.Revision(), value: e.Value()}
			}
		}
	}
}

// stopDrainTimeout bounds waiting for a stopped watcher's channel to close.
const stopDrainTimeout = 5 * time.Second
