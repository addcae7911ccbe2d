package conncount_test

import (
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/conncount"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// propagation bounds how long a report takes to reach another counter.
const propagation = 10 * time.Second

// Short timings for counters that run their own loop.
const (
	reportInterval  = 20 * time.Millisecond
	refreshInterval = 200 * time.Millisecond
	staleAfter      = time.Second
)

// local is a gateway's per-app counts, as the gateway's snapshot gives them.
type local struct {
	mu sync.Mutex
	m  map[string]int
}

func (l *local) set(appID string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]int{}
	}
	l.m[appID] = n
}

func (l *local) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.m)
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type setup struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

func newSetup(t *testing.T) setup {
	t.Helper()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	kv, err := conncount.EnsureBucket(t.Context(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return setup{js: js, kv: kv}
}

func (s setup) counter(t *testing.T, gw string, l *local, now func() time.Time) *conncount.Counter {
	t.Helper()
	c, err := conncount.New(conncount.Config{
		JS: s.js, GatewayID: gw, Snapshot: l.snapshot, Now: now,
		ReportInterval: reportInterval, RefreshInterval: refreshInterval, StaleAfter: staleAfter,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs c until the returned stop is called or the test ends.
func run(t *testing.T, c *conncount.Counter) (stop func()) {
	t.Helper()
	stop = testinfra.Background(t, c.Run)
	testinfra.WaitReady(t, "the counter's bucket", c.Ready())
	return stop
}

func waitRemote(t *testing.T, c *conncount.Counter, appID string, want int) {
	t.Helper()
	testinfra.WaitUntilWithin(t, "remote count of "+appID, propagation, func() bool { return c.Remote(appID) == want })
}

func TestCountersSeeEachOther(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	var la, lb local
	la.set("app1", 3)
	la.set("app2", 1)
	lb.set("app1", 2)
	a, b := s.counter(t, "gw-a", &la, nil), s.counter(t, "gw-b", &lb, nil)
	stopA := run(t, a)
	run(t, b)

	// Each sees the other's count and never its own.
	waitRemote(t, b, "app1", 3)
	waitRemote(t, b, "app2", 1)
	waitRemote(t, a, "app1", 2)
	if n := a.Remote("app2"); n != 0 {
		t.Fatalf("a counts its own app2 connections: %d", n)
	}

	// A drop to 0 deletes the key.
	la.set("app1", 0)
	waitRemote(t, b, "app1", 0)
	if _, err := s.kv.Get(t.Context(), "app1.gw-a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("key of a count at 0: %v", err)
	}
	la.set("app1", 1)
	waitRemote(t, b, "app1", 1)

	// A clean stop deletes the gateway's keys at once.
	stopA()
	waitRemote(t, b, "app1", 0)
	waitRemote(t, b, "app2", 0)
}

func TestStaleEntriesDoNotCount(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, cb := &clock{now: t0}, &clock{now: t0}
	var la, lb local
	la.set("app1", 3)
	a, b := s.counter(t, "gw-a", &la, ca.Now), s.counter(t, "gw-b", &lb, cb.Now)
	run(t, b)
	a.ReportNow(t.Context())
	waitRemote(t, b, "app1", 3)

	// Ages only grow: once an entry is stale, b's loop may forget it.
	for _, tc := range []struct {
		name string
		age  time.Duration
		want int
	}{
		{"fresh", 0, 3},
		{"at the limit", staleAfter, 3},
		{"stale", staleAfter + time.Nanosecond, 0},
	} {
		cb.set(t0.Add(tc.age))
		if got := b.Remote("app1"); got != tc.want {
			t.Errorf("%s: Remote = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReportWritesChangesAndRefreshes(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ca := &clock{now: t0}
	var la local
	la.set("app1", 3)
	a := s.counter(t, "gw-a", &la, ca.Now)
	a.ReportNow(t.Context())
	rev := revision(t, s.kv, "app1.gw-a")

	for _, tc := range []struct {
		name    string
		at      time.Duration
		count   int
		written bool
	}{
		{"unchanged, before refresh", refreshInterval - time.Nanosecond, 3, false},
		{"unchanged, refresh due", refreshInterval, 3, true},
		{"unchanged again", refreshInterval + reportInterval, 3, false},
		{"changed", refreshInterval + 2*reportInterval, 4, true},
	} {
		ca.set(t0.Add(tc.at))
		la.set("app1", tc.count)
		a.ReportNow(t.Context())
		got := revision(t, s.kv, "app1.gw-a")
		if written := got != rev; written != tc.written {
			t.Errorf("%s: written = %v, want %v", tc.name, written, tc.written)
		}
		if tc.written {
			e := entry(t, s.kv, "app1.gw-a")
			if e.Count != tc.count || !e.UpdatedAt.Equal(t0.Add(tc.at)) {
				t.Errorf("%s: entry = %+v", tc.name, e)
			}
		}
		rev = got
	}
}

func revision(t *testing.T, kv jetstream.KeyValue, key string) uint64 {
	t.Helper()
	e, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return e.Revision()
}

func entry(t *testing.T, kv jetstream.KeyValue, key string) conncount.Entry {
	t.Helper()
	e, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	v, err := conncount.Decode(e.Value())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKeyAndValueEncoding(t *testing.T) {
	t.Parallel()
	k, err := conncount.Key("app_1-x", "gw-A_1")
	if err != nil || k != "app_1-x.gw-A_1" {
		t.Fatalf("Key = %q, %v", k, err)
	}
	if app, gw, err := conncount.ParseKey(k); err != nil || app != "app_1-x" || gw != "gw-A_1" {
		t.Fatalf("ParseKey = %q %q %v", app, gw, err)
	}
	for _, bad := range []string{"", "app", "app.", ".gw", "a.b.c", "a b.gw"} {
		if _, _, err := conncount.ParseKey(bad); !errors.Is(err, conncount.ErrMalformed) {
			t.Errorf("ParseKey(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	for _, bad := range [][2]string{{"a.b", "gw"}, {"app", "g.w"}, {"", "gw"}, {"app", ""}} {
		if _, err := conncount.Key(bad[0], bad[1]); err == nil {
			t.Errorf("Key(%q, %q) accepted", bad[0], bad[1])
		}
	}
	e := conncount.Entry{Count: 7, UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	b, err := conncount.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := conncount.Decode(b); err != nil || got.Count != 7 || !got.UpdatedAt.Equal(e.UpdatedAt) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for name, v := range map[string]string{
		"not JSON":       `{`,
		"negative count": `{"count":-1,"updated_at":"2026-01-02T03:04:05Z"}`,
		"no time":        `{"count":1}`,
	} {
		if _, err := conncount.Decode([]byte(v)); !errors.Is(err, conncount.ErrMalformed) {
			t.Errorf("%s: Decode = %v, want ErrMalformed", name, err)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	snap := func() map[string]int { return nil }
	for name, cfg := range map[string]conncount.Config{
		"no JS":          {GatewayID: "gw", Snapshot: snap},
		"no snapshot":    {JS: js, GatewayID: "gw"},
		"bad gateway id": {JS: js, GatewayID: "g.w", Snapshot: snap},
		"stale too soon": {JS: js, GatewayID: "gw", Snapshot: snap, RefreshInterval: time.Second, ReportInterval: time.Second, StaleAfter: 2 * time.Second},
	} {
		if _, err := conncount.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := conncount.New(conncount.Config{JS: js, GatewayID: "gw", Snapshot: snap}); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}
