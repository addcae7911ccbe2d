package quota_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// propagation is the promise to enforcers: new totals are visible within
// a second of the write.
const propagation = time.Second

var day = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

func entry(dayMsgs, monthMsgs int64, mark uint64) quota.Entry {
	return quota.Entry{Day: day, Month: day.AddDate(0, 0, -14), DayMessages: dayMsgs, MonthMessages: monthMsgs,
		Marks: map[string]uint64{"HERALD_MSG": mark}, UpdatedAt: day.Add(time.Hour)}
}

func TestEncodeDecode(t *testing.T) {
	e := entry(5, 50, 7)
	b, err := quota.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := quota.Decode(b)
	if err != nil || got.DayMessages != 5 || got.MonthMessages != 50 || got.Marks["HERALD_MSG"] != 7 || !got.Day.Equal(day) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	for _, bad := range []string{`{`, `{"day":"2026-03-15T00:00:00Z"}`,
		`{"day":"2026-03-15T00:00:00Z","month":"2026-03-01T00:00:00Z","day_messages":-1}`} {
		if _, err := quota.Decode([]byte(bad)); !errors.Is(err, quota.ErrMalformed) {
			t.Errorf("Decode(%s) = %v; want ErrMalformed", bad, err)
		}
	}
	if _, err := quota.Encode(entry(-1, 0, 0)); !errors.Is(err, quota.ErrMalformed) {
		t.Errorf("Encode of negative totals = %v", err)
	}
}

// A cache follows puts within a second, keeps the last good totals of
// nobody (a malformed value drops the account's), and sees totals that
// were in the bucket before it started.
func TestCacheFollowsTotals(t *testing.T) {
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	kv, err := quota.EnsureBucket(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := quota.Put(ctx, kv, "acc-early", entry(1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := quota.Put(ctx, kv, "bad.id", entry(1, 1, 1)); err == nil {
		t.Fatal("Put accepted an account id with a dot")
	}
	c := quota.NewCache(quota.CacheConfig{JS: js, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	testinfra.Background(t, c.Run)
	testinfra.WaitReady(t, "the totals cache", c.Ready())
	if e, ok := c.Totals("acc-early"); !ok || e.DayMessages != 1 {
		t.Fatalf("totals written before the cache started: %+v %v", e, ok)
	}
	if err := quota.Put(ctx, kv, "acc1", entry(10, 100, 42)); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "new totals", propagation, func() bool {
		e, ok := c.Totals("acc1")
		return ok && e.DayMessages == 10 && e.Marks["HERALD_MSG"] == 42
	})
	first, _ := c.Totals("acc1")
	if err := quota.Put(ctx, kv, "acc1", entry(11, 101, 43)); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "updated totals", propagation, func() bool {
		e, ok := c.Totals("acc1")
		return ok && e != first && e.DayMessages == 11
	})
	if _, err := kv.Put(ctx, "acc1", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "malformed totals dropped", propagation, func() bool {
		_, ok := c.Totals("acc1")
		return !ok
	})
}

// Totals put out of order (two folders read, the older read's put lands
// last) never replace newer ones: an older read of the same day has fewer
// messages, or is of an earlier day.
func TestCacheKeepsNewerTotals(t *testing.T) {
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	kv, err := quota.EnsureBucket(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := quota.NewCache(quota.CacheConfig{JS: js, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	testinfra.Background(t, c.Run)
	testinfra.WaitReady(t, "the totals cache", c.Ready())
	put := func(e quota.Entry) {
		t.Helper()
		if err := quota.Put(ctx, kv, "acc", e); err != nil {
			t.Fatal(err)
		}
	}
	put(entry(20, 200, 9))
	put(entry(10, 190, 8))
	// A marker after the stale put: once the cache has it, it has
	// seen the stale one too (the bucket's updates arrive in order).
	if err := quota.Put(ctx, kv, "marker", entry(1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "the marker", propagation, func() bool {
		_, ok := c.Totals("marker")
		return ok
	})
	if e, _ := c.Totals("acc"); e == nil || e.DayMessages != 20 || e.Marks["HERALD_MSG"] != 9 {
		t.Fatalf("totals after an older put = %+v; want the newer ones kept", e)
	}
	yesterday := entry(500, 500, 1)
	yesterday.Day = day.AddDate(0, 0, -1)
	put(yesterday)
	next := entry(1, 201, 10)
	next.Day = day.AddDate(0, 0, 1)
	put(next)
	testinfra.WaitUntilWithin(t, "the next day's totals", propagation, func() bool {
		e, _ := c.Totals("acc")
		return e != nil && e.Day.Equal(next.Day)
	})
}

func TestStale(t *testing.T) {
	cur := entry(20, 200, 9)
	sameCounts := entry(20, 200, 12)
	fewer := entry(19, 200, 12)
	earlier := entry(500, 500, 12)
	earlier.Day = day.AddDate(0, 0, -1)
	later := entry(0, 200, 12)
	later.Day = day.AddDate(0, 0, 1)
	for _, tc := range []struct {
		name string
		e    quota.Entry
		want bool
	}{
		{"same counts", sameCounts, false},
		{"fewer messages", fewer, true},
		{"an earlier day", earlier, true},
		{"a later day", later, false},
	} {
		if got := quota.Stale(&tc.e, &cur); got != tc.want {
			t.Errorf("%s: Stale = %v; want %v", tc.name, got, tc.want)
		}
	}
	if quota.Stale(&cur, nil) {
		t.Error("totals are stale against none")
	}
}
