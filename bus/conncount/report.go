package conncount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// reporter writes this gateway's counts to the bucket. It is used by one
// goroutine at a time (Run's loop), so it needs no lock.
type reporter struct {
	cfg    Config
	log    *slog.Logger
	kv     jetstream.KeyValue
	failed prometheus.Counter
	// sent is what the bucket holds for each app this gateway wrote.
	sent map[string]Entry
}

// round writes the counts that changed or are due for a refresh and
// deletes the keys of apps that dropped to 0. It stops at the first
// failure, which is most likely a connection that is down: the next
// round retries everything still different.
func (r *reporter) round(ctx context.Context) {
	if err := r.roundErr(ctx); err != nil && ctx.Err() == nil {
		r.failed.Inc()
		r.log.Warn("connection count report failed; retrying next round", slog.Any("error", err))
	}
}

func (r *reporter) roundErr(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	now := r.cfg.Now()
	local := r.cfg.Snapshot()
	for appID, n := range local {
		if n <= 0 {
			continue
		}
		last, ok := r.sent[appID]
		if ok && last.Count == n && now.Sub(last.UpdatedAt) < r.cfg.RefreshInterval {
			continue
		}
		e := Entry{Count: n, UpdatedAt: now}
		if err := r.put(ctx, appID, e); err != nil {
			return err
		}
		r.sent[appID] = e
	}
	for appID := range r.sent {
		if local[appID] > 0 {
			continue
		}
		if err := r.delete(ctx, appID); err != nil {
			return err
		}
		delete(r.sent, appID)
	}
	return nil
}

// deleteAll deletes every key this gateway wrote, on a clean stop.
func (r *reporter) deleteAll(ctx context.Context) {
	if r.kv == nil {
		return
	}
	for appID := range r.sent {
		if err := r.delete(ctx, appID); err != nil {
			// The entries go stale on their own; others stop counting
			// them after StaleAfter.
			r.log.Warn("could not delete connection counts on stop", slog.Any("error", err))
			return
		}
		delete(r.sent, appID)
	}
}

// open binds the bucket once; until it succeeds every round tries again.
func (r *reporter) open(ctx context.Context) error {
	if r.kv != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	kv, err := r.cfg.JS.KeyValue(ctx, Bucket)
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", Bucket, err)
	}
	r.kv = kv
	return nil
}

func (r *reporter) put(ctx context.Context, appID string, e Entry) error {
	key, err := Key(appID, r.cfg.GatewayID)
	if err != nil {
		// Not a failure to retry: an id that makes no key never will.
		r.log.Warn("skipping connection count of an invalid app id", slog.String("app_id", appID), slog.Any("error", err))
		return nil
	}
	b, err := Encode(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	if _, err := r.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func (r *reporter) delete(ctx context.Context, appID string) error {
	key, err := Key(appID, r.cfg.GatewayID)
	if err != nil {
		// Not a failure to retry: an id that makes no key never will.
		r.log.Warn("skipping connection count of an invalid app id", slog.String("app_id", appID), slog.Any("error", err))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	if err := r.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
