package webhooks_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testinfra"
)

// errOutage is what the outage store answers while the database is "down".
var errOutage = errors.New("database unavailable (injected)")

// outageStore is the real store whose claims fail while down is set, as
// when PostgreSQL is unreachable.
type outageStore struct {
	*postgres.Store
	down   atomic.Bool
	claims atomic.Int64
}

func (s *outageStore) ClaimWebhookEndpoints(ctx context.Context, owner string, lease time.Duration, n int, gap time.Duration, floor uint64) ([]string, error) {
	if s.down.Load() {
		s.claims.Add(1)
		return nil, errOutage
	}
	return s.Store.ClaimWebhookEndpoints(ctx, owner, lease, n, gap, floor)
}

// logLines keeps the JSON log lines a dispatcher writes.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, `"msg":"`+msg+`"`) {
			n++
		}
	}
	return n
}

// TestClaimOutageBacksOffQuietly: while the database refuses claims the
// sender retries with a growing wait and logs the first failure, not one
// line per retry; once it answers again, one line says so and the
// events published during the outage are delivered.
func TestClaimOutageBacksOffQuietly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := &outageStore{Store: e.store}
	store.down.Store(true)
	cfg := e.fastConfig()
	cfg.Store = store
	logs := &logLines{}
	cfg.Logger = slog.New(slog.NewJSONHandler(io.MultiWriter(logs, testinfra.LogWriter("webhooks")), &slog.HandlerOptions{Level: slog.LevelInfo}))
	healthy := newReceiver(t, nil)
	e.endpoint(t, healthy.URL, false)
	e.start(t, cfg)

	want := sequence([]string{"a"}, 2)
	e.publish(t, want...)
	// The third failed claim comes 1.5 to 3 s after the first: the waits
	// are 1 s then 2 s, each jittered down to half at most.
	testinfra.WaitUntilWithin(t, "three failed claims", 10*time.Second, func() bool { return store.claims.Load() >= 3 })
	if n := logs.count("webhook claim failed; retrying"); n != 1 {
		t.Fatalf("%d warnings for %d failed claims; want 1", n, store.claims.Load())
	}
	store.down.Store(false)
	checkOrder(t, healthy.WaitEvents(len(want)), want)
	testinfra.WaitUntil(t, "the recovery to be logged", func() bool { return logs.count("webhook claim recovered") == 1 })
}
