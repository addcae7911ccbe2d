package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// restartFlushInterval is longer than the test: the only flushes are the
// ones at a stop and at a minute boundary.
const restartFlushInterval = time.Hour

// waitMonth waits until the app's month usage satisfies ok.
func waitMonth(t *testing.T, pool *pgxpool.Pool, ok func(billing.Counters) bool) billing.Counters {
	t.Helper()
	deadline := time.Now().Add(usageDeadline)
	for {
		c := readUsage(t, pool, appID)[billing.Month]
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("month usage %+v after %s", c, usageDeadline)
		}
		time.Sleep(meterFlushInterval / 2)
	}
}

// TestUsageAcrossStopAndKill: a graceful stop flushes what its gateway
// counted, which the next start folds; a killed process (a SIGKILL as far
// as the cluster can tell) loses no published message, which is counted
// from the stream after the restart.
func TestUsageAcrossStopAndKill(t *testing.T) {
	// Parallel: it runs processes of its own and spends most of its time
	// waiting on them (timeouts, restarts), so it overlaps with the other
	// long e2e tests.
	t.Parallel()
	dataDir, db := t.TempDir(), testinfra.Postgres(t)
	start := func() *testenv.HeraldEnv {
		return testenv.Herald(t, func(c *platform.Config) {
			c.DataDir, c.DatabaseURL = dataDir, db
			c.Metering = platform.MeteringConfig{FlushInterval: restartFlushInterval, FoldWait: meterFoldWait}
		})
	}
	pool, err := pgxpool.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	h := start()
	w := testenv.MustDialPusher(t, h.URL(), key)
	w.Subscribe("news", key, "", "")
	testenv.Trigger(t, h.URL(), appID, key, secret, "e", "1", "news")
	testenv.Trigger(t, h.URL(), appID, key, secret, "e", "2", "news")
	w.Expect("e", "news")
	w.Expect("e", "news")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h = start()
	waitMonth(t, pool, func(c billing.Counters) bool { return c.MessagesPublished == 2 && c.MessagesDelivered == 2 })

	testenv.Trigger(t, h.URL(), appID, key, secret, "e", "3", "news", "other")
	h.Kill()
	start()
	got := waitMonth(t, pool, func(c billing.Counters) bool { return c.MessagesPublished >= 4 })
	time.Sleep(3 * meterFoldWait)
	if again := readUsage(t, pool, appID)[billing.Month]; got.MessagesPublished != 4 || again.MessagesPublished != 4 {
		t.Fatalf("published %d, then %d; want 4", got.MessagesPublished, again.MessagesPublished)
	}
}
