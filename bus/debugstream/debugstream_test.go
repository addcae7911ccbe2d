package debugstream_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/debugstream"
	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// Timings: propagation is the promise (events flow within a second of
// Watch); ttl is the shortest interest TTL JetStream allows.
const (
	propagation = time.Second
	ttl         = time.Second
	// quiet is how long a test waits to be sure nothing arrives.
	quiet = 300 * time.Millisecond
)

// env is one process's side of the debug stream on an embedded NATS.
type env struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	interest *debugstream.Interest
}

// newEnv starts a NATS server with the interest bucket and returns a
// process on it.
func newEnv(t *testing.T) (*env, func(t *testing.T) *env) {
	t.Helper()
	srv := testinfra.NATS(t)
	if err := debugstream.EnsureBucket(t.Context(), testinfra.JetStream(t, testinfra.NATSConn(t, srv)), 1, ttl); err != nil {
		t.Fatal(err)
	}
	process := func(t *testing.T) *env {
		t.Helper()
		nc := testinfra.NATSConn(t, srv)
		js := testinfra.JetStream(t, nc)
		i := debugstream.NewInterest(debugstream.InterestConfig{JS: js, Logger: testinfra.Logger(t),
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
		testinfra.Background(t, i.Run)
		testinfra.WaitReady(t, "interest", i.Ready())
		return &env{nc: nc, js: js, interest: i}
	}
	return process(t), process
}

func (e *env) watchers(t *testing.T, perSecond int, now ...func() time.Time) *debugstream.Watchers {
	t.Helper()
	cfg := debugstream.WatchersConfig{JS: e.js, NC: e.nc, Interest: e.interest,
		InterestTTL: ttl, EventsPerSecond: perSecond, Logger: testinfra.Logger(t)}
	if len(now) > 0 {
		cfg.Now = now[0]
	}
	w, err := debugstream.NewWatchers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (e *env) publisher(t *testing.T, perSecond int, now func() time.Time) *debugstream.Publisher {
	t.Helper()
	p, err := debugstream.NewPublisher(debugstream.PublisherConfig{NC: e.nc, Interest: e.interest,
		EventsPerSecond: perSecond, Now: now, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	testinfra.Background(t, func(ctx context.Context) error { p.Run(ctx); return nil })
	return p
}

func watch(t *testing.T, w *debugstream.Watchers, appID string) *debugstream.Stream {
	t.Helper()
	s, err := w.Watch(t.Context(), appID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// rawSubscriber counts every debug event published, whatever the app.
func rawSubscriber(t *testing.T, nc *nats.Conn) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	sub, err := nc.Subscribe(channels.DebugSubjectPrefix+".>", func(*nats.Msg) { n.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return &n
}

// next reads the next event of a stream within propagation.
func next(t *testing.T, s *debugstream.Stream) channels.DebugEvent {
	t.Helper()
	select {
	case b := <-s.Events():
		var ev channels.DebugEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		return ev
	case <-time.After(propagation):
		t.Fatal("no event within a second")
		return channels.DebugEvent{}
	}
}

func TestWatchedFollowsWatchAndTTL(t *testing.T) {
	e, process := newEnv(t)
	other := process(t) // another process, e.g. a gateway
	w := e.watchers(t, 0)
	if e.interest.Watched("app1") || other.interest.Watched("app1") {
		t.Fatal("watched before any Watch")
	}
	s := watch(t, w, "app1")
	// Watch returns once its own process sees the interest.
	if !e.interest.Watched("app1") {
		t.Fatal("not watched when Watch returned")
	}
	testinfra.WaitUntilWithin(t, "the other process to see the interest", propagation, func() bool {
		return other.interest.Watched("app1")
	})
	if other.interest.Watched("app2") {
		t.Fatal("an app nobody watches is watched")
	}
	// Still watched after several TTLs: the key is renewed.
	time.Sleep(3 * ttl)
	if !other.interest.Watched("app1") {
		t.Fatal("interest lapsed while the stream was open")
	}
	s.Close()
	testinfra.WaitUntilWithin(t, "the interest to end with the stream", propagation, func() bool {
		return !other.interest.Watched("app1")
	})

	// A watcher that died without purging its key stops counting after
	// the TTL.
	if _, err := e.js.PublishMsg(t.Context(), kvttl.Put("$KV."+debugstream.Bucket+".app3.dead", nil, ttl)); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "the dead watcher's interest", propagation, func() bool { return other.interest.Watched("app3") })
	// The purge of an expired key follows within about 2 s (docs/nats.md).
	testinfra.WaitUntilWithin(t, "the dead watcher's interest to expire", ttl+3*time.Second, func() bool {
		return !other.interest.Watched("app3")
	})
}

func TestPublisherSilentWhenUnwatched(t *testing.T) {
	e, _ := newEnv(t)
	raw := rawSubscriber(t, e.nc)
	p := e.publisher(t, 0, nil)
	built := 0
	build := func() channels.DebugEvent {
		built++
		return channels.DebugEvent{Type: channels.DebugConnected, SocketID: "1.1"}
	}
	p.Emit("app1", build)
	p.Publish("app1", channels.DebugEvent{Type: channels.DebugConnected})
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(quiet)
	if raw.Load() != 0 || built != 0 {
		t.Fatalf("unwatched app: %d published, %d built", raw.Load(), built)
	}

	// Positive control: watched, the same calls publish.
	s := watch(t, e.watchers(t, 0), "app1")
	p.Emit("app1", build)
	if ev := next(t, s); ev.Type != channels.DebugConnected || ev.SocketID != "1.1" || ev.Time == 0 || built != 1 {
		t.Fatalf("event %+v, built %d", ev, built)
	}
	testinfra.WaitUntilWithin(t, "the raw subscriber to see it", propagation, func() bool { return raw.Load() == 1 })
	p.Emit("app2", build) // another app stays silent
	s.Close()
	testinfra.WaitUntilWithin(t, "the interest to end", propagation, func() bool { return !p.Watched("app1") })
	p.Emit("app1", build)
	time.Sleep(quiet)
	if raw.Load() != 1 || built != 1 {
		t.Fatalf("after the stream closed: %d published, %d built", raw.Load(), built)
	}
	var nilPub *debugstream.Publisher
	if nilPub.Watched("app1") {
		t.Fatal("a nil publisher watches")
	}
	nilPub.Emit("app1", build)
}

// clock is a settable clock for the caps' seconds.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// collect reads a stream until shown plus dropped reach want.
func collect(t *testing.T, s *debugstream.Stream, want int64) (shown, dropped int64) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for shown+dropped < want {
		select {
		case b := <-s.Events():
			var ev channels.DebugEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type == channels.DebugDropped {
				dropped += ev.Count
			} else {
				shown++
			}
		case <-deadline:
			t.Fatalf("shown %d + dropped %d after 5 s, want %d", shown, dropped, want)
		}
	}
	return shown, dropped
}

func TestCapCountsDropped(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		publishers           int
		perPublisher, stream int
		each                 int
		wantShown            int64
	}{
		{name: "one publisher over its cap", publishers: 1, perPublisher: 5, stream: 100, each: 12, wantShown: 5},
		{name: "several publishers over the stream's cap", publishers: 3, perPublisher: 100, stream: 10, each: 8, wantShown: 10},
		{name: "within both caps", publishers: 2, perPublisher: 10, stream: 30, each: 10, wantShown: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, process := newEnv(t)
			clk := &clock{now: time.Unix(1_000_000, 0)}
			pubs := []*debugstream.Publisher{e.publisher(t, tc.perPublisher, clk.Now)}
			for len(pubs) < tc.publishers {
				pubs = append(pubs, process(t).publisher(t, tc.perPublisher, clk.Now))
			}
			s := watch(t, e.watchers(t, tc.stream, clk.Now), "app1")
			for _, p := range pubs {
				testinfra.WaitUntilWithin(t, "the publisher to see the interest", propagation, func() bool { return p.Watched("app1") })
			}
			for _, p := range pubs {
				for i := range tc.each {
					p.Publish("app1", channels.DebugEvent{Type: channels.DebugAPIMessage, Serial: uint64(i + 1)})
				}
			}
			want := int64(tc.publishers * tc.each)
			shown, dropped := collect(t, s, want)
			if shown != tc.wantShown || shown+dropped != want {
				t.Fatalf("shown %d, dropped %d; want %d shown of %d", shown, dropped, tc.wantShown, want)
			}
		})
	}
}

// Two consoles on one app share the process's key: closing one keeps
// the other's events flowing; two processes hold a key each.
func TestTwoWatchers(t *testing.T) {
	e, process := newEnv(t)
	other := process(t)
	p := e.publisher(t, 0, nil)
	w := e.watchers(t, 0)
	a, b := watch(t, w, "app1"), watch(t, w, "app1")
	c := watch(t, other.watchers(t, 0), "app1")
	p.Publish("app1", channels.DebugEvent{Type: channels.DebugSignedIn, UserID: "u1"})
	for _, s := range []*debugstream.Stream{a, b, c} {
		if ev := next(t, s); ev.UserID != "u1" {
			t.Fatalf("event %+v", ev)
		}
	}
	a.Close()
	c.Close()
	// Past a TTL: the remaining stream's key must still be renewed.
	time.Sleep(ttl + ttl/2)
	if !p.Watched("app1") {
		t.Fatal("closing one stream ended the other's interest")
	}
	p.Publish("app1", channels.DebugEvent{Type: channels.DebugSignedIn, UserID: "u2"})
	if ev := next(t, b); ev.UserID != "u2" {
		t.Fatalf("event %+v", ev)
	}
	b.Close()
	testinfra.WaitUntilWithin(t, "the interest to end with the last stream", propagation, func() bool { return !p.Watched("app1") })
	// Watching again after the last one closed works.
	d := watch(t, w, "app1")
	p.Publish("app1", channels.DebugEvent{Type: channels.DebugSignedIn, UserID: "u3"})
	if ev := next(t, d); ev.UserID != "u3" {
		t.Fatalf("event %+v", ev)
	}
}

func TestWatchRefusesBadAppIDs(t *testing.T) {
	e, _ := newEnv(t)
	w := e.watchers(t, 0)
	for _, id := range []string{"", "a.b", "a>", "a*"} {
		if s, err := w.Watch(t.Context(), id); err == nil {
			s.Close()
			t.Errorf("Watch(%q) accepted", id)
		}
	}
}

// BenchmarkWatched is the cost every would-be debug event pays: with no
// app watched, and with some watched but not this one.
func BenchmarkWatched(b *testing.B) {
	e, _ := newEnvB(b)
	for _, watched := range []int{0, 10} {
		b.Run("watched="+strconv.Itoa(watched), func(b *testing.B) {
			for i := range watched {
				if _, err := e.js.PublishMsg(b.Context(), kvttl.Put("$KV."+debugstream.Bucket+".other"+strconv.Itoa(i)+".h", nil, time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
			testinfra.WaitUntil(b, "the interest", func() bool { return watched == 0 || e.interest.Watched("other0") })
			b.ReportAllocs()
			for b.Loop() {
				if e.interest.Watched("app1") {
					b.Fatal("watched")
				}
			}
		})
	}
}

func newEnvB(b *testing.B) (*env, struct{}) {
	b.Helper()
	srv := testinfra.NATS(b)
	nc := testinfra.NATSConn(b, srv)
	js := testinfra.JetStream(b, nc)
	if err := debugstream.EnsureBucket(b.Context(), js, 1, ttl); err != nil {
		b.Fatal(err)
	}
	i := debugstream.NewInterest(debugstream.InterestConfig{JS: js})
	testinfra.Background(b, i.Run)
	testinfra.WaitReady(b, "interest", i.Ready())
	return &env{nc: nc, js: js, interest: i}, struct{}{}
}

// BenchmarkPublishWatched is what one event of a watched app costs the
// process where it happens: within the cap (built, encoded, published
// to NATS) and over it (counted as dropped). At the default cap of 500
// events a second, the first bounds what a console adds to a busy
// gateway.
func BenchmarkPublishWatched(b *testing.B) {
	e, _ := newEnvB(b)
	if _, err := e.js.PublishMsg(b.Context(), kvttl.Put("$KV."+debugstream.Bucket+".app1.h", nil, time.Minute)); err != nil {
		b.Fatal(err)
	}
	testinfra.WaitUntil(b, "the interest", func() bool { return e.interest.Watched("app1") })
	payload := []byte(`{"symbol":"HRLD","price":"123.45","seq":77777777777777777777777777777777777777777777777777777777}`)
	for _, tc := range []struct {
		name      string
		perSecond int
	}{{"within-cap", 1 << 30}, {"over-cap", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := debugstream.NewPublisher(debugstream.PublisherConfig{NC: e.nc, Interest: e.interest, EventsPerSecond: tc.perSecond})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				preview, cut := channels.DebugPreview(payload)
				p.Publish("app1", channels.DebugEvent{Type: channels.DebugClientEvent, SocketID: "123.456",
					Channel: "private-room", Event: "client-price", Serial: 12345, Size: len(payload),
					Preview: preview, Truncated: cut, Gateway: "gw-0123456789ab"})
			}
		})
	}
}
