package history_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/internal/testinfra"
)

// retentionFixture is a database with apps of several retentions and
// messages of several ages, at a fixed now.
type retentionFixture struct {
	db
	now    time.Time
	serial uint64
	// kept lists, per app, the serials that must survive.
	kept map[string][]uint64
}

func newRetentionFixture(t *testing.T) *retentionFixture {
	t.Helper()
	f := &retentionFixture{db: newDB(t, ""), now: time.Now().UTC().Truncate(time.Millisecond), kept: map[string][]uint64{}}
	ctx := context.Background()
	acc, err := f.store.CreateAccount(ctx, "acc")
	if err != nil {
		t.Fatal(err)
	}
	for id, secs := range map[string]int{"day": channels.DefaultHistoryRetentionS, "minute": 60, "none": 0} {
		_, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: id, AccountID: acc.ID, Name: id,
			Settings: channels.SettingsPatch{HistoryRetentionS: &secs}})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.add(t, "day", 25*time.Hour, 10, false)
	f.add(t, "day", time.Hour, 10, true)
	f.add(t, "minute", 2*time.Minute, 25, false)
	f.add(t, "minute", 10*time.Second, 5, true)
	f.add(t, "none", 10*time.Second, 10, false)
	// "gone" is no app (any more): nothing of it is kept.
	f.add(t, "gone", 10*time.Second, 10, false)
	return f
}

// add writes n messages of app published age ago.
func (f *retentionFixture) add(t *testing.T, app string, age time.Duration, n int, keep bool) {
	t.Helper()
	msgs := make([]controlplane.HistoryMessage, n)
	for i := range msgs {
		f.serial++
		msgs[i] = controlplane.HistoryMessage{Stream: "HERALD_MSG", Serial: f.serial, AppID: app, Channel: "c",
			Event: "e", Data: []byte("d"), PublishedAt: f.now.Add(-age)}
		if keep {
			f.kept[app] = append(f.kept[app], f.serial)
		}
	}
	if _, err := f.store.WriteHistory(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// check fails unless exactly the kept messages are left.
func (f *retentionFixture) check(t *testing.T) {
	t.Helper()
	var want []uint64
	for _, s := range f.kept {
		want = append(want, s...)
	}
	slices.Sort(want)
	if got := f.serials(t); !slices.Equal(got, want) {
		t.Fatalf("left %v, want %v", got, want)
	}
}

func newRetention(t *testing.T, cfg history.RetentionConfig) *history.Retention {
	t.Helper()
	r, err := history.NewRetention(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRetentionPassesAreBounded(t *testing.T) {
	f := newRetentionFixture(t)
	const batch = 10
	reg := prometheus.NewRegistry()
	r := newRetention(t, history.RetentionConfig{Store: f.store, BatchSize: batch, MaxBatches: 1,
		Now: func() time.Time { return f.now }, Registerer: reg})
	total := f.count(t)
	var passes int
	for {
		before := f.count(t)
		res, err := r.Pass(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		passes++
		if res.Batches > 1 || res.Deleted > batch || int64(before-f.count(t)) != res.Deleted {
			t.Fatalf("pass %d: %+v deleted %d (batch %d, one batch per pass)", passes, res, before-f.count(t), batch)
		}
		if res.Apps != 4 {
			t.Fatalf("pass %d saw %d apps with history, want 4", passes, res.Apps)
		}
		if !res.More {
			break
		}
		if passes > 100 {
			t.Fatal("passes never end")
		}
	}
	// One batch per pass, apps in turns (day, gone, minute, none): 10 of
	// each, then day, gone and none find nothing left, minute 10 and 5.
	if passes != 9 {
		t.Errorf("%d passes, want 9", passes)
	}
	f.check(t)
	if purged := metric(t, reg, "herald_history_purged_total"); purged != float64(total-f.count(t)) {
		t.Errorf("purged_total = %v, want %d", purged, total-f.count(t))
	}

	// Nothing left to do: the next sweep (one pass per app left with
	// history) deletes nothing.
	for i := range 2 {
		res, err := r.Pass(t.Context())
		if err != nil || res.Deleted != 0 || res.Apps != 2 || res.More != (i == 0) {
			t.Errorf("idle pass %d = %+v, %v", i, res, err)
		}
	}
}

// TestRetentionTakesAppsInTurns: one pass with a batch per app touches
// every app instead of finishing the first one.
func TestRetentionTakesAppsInTurns(t *testing.T) {
	f := newRetentionFixture(t)
	r := newRetention(t, history.RetentionConfig{Store: f.store, BatchSize: 5, MaxBatches: 4,
		Now: func() time.Time { return f.now }})
	res, err := r.Pass(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Batches != 4 || res.Deleted != 20 || !res.More {
		t.Fatalf("pass = %+v, want 4 batches of 5 and more to do", res)
	}
	rets, err := f.store.HistoryRetentions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range rets {
		var n int
		if err := f.pool.QueryRow(t.Context(), "select count(*) from messages where app_id = $1", app.AppID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"day": 15, "minute": 25, "none": 5, "gone": 5}[app.AppID]; n != want {
			t.Errorf("%s has %d messages after one turn, want %d", app.AppID, n, want)
		}
	}
}

func TestRetentionRun(t *testing.T) {
	f := newRetentionFixture(t)
	r := newRetention(t, history.RetentionConfig{Store: f.store, Interval: 10 * time.Millisecond, BatchSize: 7,
		MaxBatches: 2, Now: func() time.Time { return f.now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	}()
	want := 0
	for _, s := range f.kept {
		want += len(s)
	}
	testinfra.WaitUntil(t, "expired messages purged", func() bool { return f.count(t) == want })
	f.check(t)
	// Later messages of an app that keeps none go too.
	f.add(t, "none", time.Second, 3, false)
	testinfra.WaitUntil(t, "new expired messages purged", func() bool { return f.count(t) == want })
}

func TestNewRetentionNeedsStore(t *testing.T) {
	if _, err := history.NewRetention(history.RetentionConfig{}); err == nil {
		t.Error("no error without Store")
	}
}
