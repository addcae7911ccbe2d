package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
)

// usageRow reads one usage row (zero Counters when there is none) and
// its account.
func (f *fixture) usageRow(tb testing.TB, appID string, g billing.Granularity, at time.Time) (string, billing.Counters) {
	tb.Helper()
	var acct string
	var c billing.Counters
	err := f.pool.QueryRow(context.Background(), `
		select account_id, messages_published, messages_delivered, presence_events, webhook_calls, api_requests,
			bytes_in, bytes_out, connection_seconds, peak_connections, history_reads
		from usage where app_id = $1 and granularity = $2 and period_start = $3`, appID, string(g), g.Start(at)).
		Scan(&acct, &c.MessagesPublished, &c.MessagesDelivered, &c.PresenceEvents, &c.WebhookCalls, &c.APIRequests,
			&c.BytesIn, &c.BytesOut, &c.ConnectionSeconds, &c.PeakConnections, &c.HistoryReads)
	if err != nil && err.Error() != "no rows in result set" {
		tb.Fatalf("read usage: %v", err)
	}
	return acct, c
}

// wantUsage checks an app's usage at every granularity holding at.
func (f *fixture) wantUsage(tb testing.TB, appID string, at time.Time, want billing.Counters) {
	tb.Helper()
	for _, g := range billing.Granularities {
		if _, got := f.usageRow(tb, appID, g, at); got != want {
			tb.Errorf("%s usage of %s: %+v; want %+v", g, appID, got, want)
		}
	}
}

// race runs fold n times at once and returns the sum of what they
// folded.
func race(t *testing.T, n int, fold func(i int) (int, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range n {
		wg.Go(func() {
			got, err := fold(i)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += got
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}

func TestFoldFlushesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account(t, "Acme")
	f.app(t, acct.ID, "app1")
	minute := time.Date(2026, 3, 1, 10, 59, 0, 0, time.UTC)
	fl := billing.Flush{ID: "gw1.n.1", Minute: minute, Apps: []billing.AppUsage{
		{AppID: "app1", Counters: billing.Counters{MessagesDelivered: 5, BytesOut: 100, PeakConnections: 3, ConnectionSeconds: 7}},
		{AppID: "gone", Counters: billing.Counters{APIRequests: 2}},
	}}
	for i := range 2 {
		n, err := f.store.FoldFlushes(ctx, []billing.Flush{fl, fl})
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 - i; n != want {
			t.Errorf("fold %d folded %d; want %d", i, n, want)
		}
	}
	f.wantUsage(t, "app1", minute, billing.Counters{MessagesDelivered: 5, BytesOut: 100, PeakConnections: 3, ConnectionSeconds: 7})
	f.wantUsage(t, "gone", minute, billing.Counters{APIRequests: 2})
	if a, _ := f.usageRow(t, "app1", billing.Month, minute); a != acct.ID {
		t.Errorf("account %q; want %q", a, acct.ID)
	}
	if a, _ := f.usageRow(t, "gone", billing.Month, minute); a != "" {
		t.Errorf("account of an unknown app %q; want empty", a)
	}
	// The next minute is another hour: only the day and month add up;
	// peaks keep the greatest.
	next := billing.Flush{ID: "gw1.n.2", Minute: minute.Add(time.Minute), Apps: []billing.AppUsage{
		{AppID: "app1", Counters: billing.Counters{MessagesDelivered: 1, PeakConnections: 2}},
	}}
	if _, err := f.store.FoldFlushes(ctx, []billing.Flush{next}); err != nil {
		t.Fatal(err)
	}
	if _, c := f.usageRow(t, "app1", billing.Hour, minute); c.MessagesDelivered != 5 {
		t.Errorf("hour 10 delivered %d; want 5", c.MessagesDelivered)
	}
	if _, c := f.usageRow(t, "app1", billing.Day, minute); c.MessagesDelivered != 6 || c.PeakConnections != 3 {
		t.Errorf("day: %+v; want 6 delivered, peak 3", c)
	}
}

// Folders racing over the same flushes (a redelivery while the first
// fold is still running) count each once.
func TestFoldFlushesRacing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	minute := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const flushes, folders = 50, 4
	batch := make([]billing.Flush, flushes)
	for i := range batch {
		batch[i] = billing.Flush{ID: fmt.Sprintf("gw.%d", i), Minute: minute, Apps: []billing.AppUsage{
			{AppID: "a", Counters: billing.Counters{MessagesDelivered: 1}},
			{AppID: "b", Counters: billing.Counters{PresenceEvents: 2}},
		}}
	}
	total := race(t, folders, func(w int) (int, error) {
		// Each folder sees the flushes in its own order.
		mine := append([]billing.Flush(nil), batch[w*5:]...)
		mine = append(mine, batch[:w*5]...)
		return f.store.FoldFlushes(ctx, mine)
	})
	if total != flushes {
		t.Errorf("folded %d in all; want %d", total, flushes)
	}
	f.wantUsage(t, "a", minute, billing.Counters{MessagesDelivered: flushes})
	f.wantUsage(t, "b", minute, billing.Counters{PresenceEvents: 2 * flushes})
}

// A batch of stream messages delivered again, whole or overlapping the
// next, counts each message once.
func TestFoldPublishedRedelivered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)
	msgs := func(from, to uint64) []billing.Published {
		var out []billing.Published
		for s := from; s <= to; s++ {
			out = append(out, billing.Published{Serial: s, AppID: "a", At: at.Add(time.Duration(s) * time.Millisecond * 100), Bytes: 10})
		}
		return out
	}
	steps := []struct {
		from, to uint64
		want     int
	}{{1, 5, 5}, {1, 5, 0}, {3, 12, 7}, {12, 12, 0}}
	for _, s := range steps {
		n, err := f.store.FoldPublished(ctx, "HERALD_MSG", msgs(s.from, s.to))
		if err != nil {
			t.Fatal(err)
		}
		if n != s.want {
			t.Errorf("fold %d..%d counted %d; want %d", s.from, s.to, n, s.want)
		}
	}
	if m, err := f.store.StreamMark(ctx, "HERALD_MSG"); err != nil || m != 12 {
		t.Errorf("mark %d, %v; want 12", m, err)
	}
	// Serials 1..9 fall on March 1st, 10..12 on March 2nd.
	if _, c := f.usageRow(t, "a", billing.Day, at); c.MessagesPublished != 9 || c.BytesIn != 90 {
		t.Errorf("March 1st: %+v; want 9 published, 90 bytes", c)
	}
	if _, c := f.usageRow(t, "a", billing.Day, at.Add(time.Hour)); c.MessagesPublished != 3 {
		t.Errorf("March 2nd: %+v; want 3 published", c)
	}
	// Folders racing over the same batch count it once.
	total := race(t, 3, func(int) (int, error) { return f.store.FoldPublished(ctx, "HERALD_MSG_1", msgs(1, 20)) })
	if total != 20 {
		t.Errorf("racing folders counted %d; want 20", total)
	}
}

func TestForgetFlushes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fl := billing.Flush{ID: "x.1", Minute: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := f.store.FoldFlushes(ctx, []billing.Flush{fl}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.store.ForgetFlushes(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("forget recent: %d, %v; want 0", n, err)
	}
	if n, err := f.store.ForgetFlushes(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("forget: %d, %v; want 1", n, err)
	}
	var marks int
	if err := f.pool.QueryRow(ctx, `select count(*) from usage_flush_marks`).Scan(&marks); err != nil || marks != 0 {
		t.Fatalf("flush marks left: %d, %v; want none", marks, err)
	}
}
