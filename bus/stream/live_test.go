package stream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestLiveOrderWithConcurrentPublishers(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{}), Handler: rec.handle})
	chans := []string{"a", "b", "c"}
	for _, c := range chans {
		subscribe(t, l, c)
	}

	const publishers, perPublisher = 4, 30
	var mu sync.Mutex
	published := map[string][]uint64{}
	var wg sync.WaitGroup
	for w := range publishers {
		wg.Go(func() {
			for i := range perPublisher {
				c := chans[(w+i)%len(chans)]
				serial, _, err := p.Publish(context.Background(), msg(c, "ev", fmt.Sprint(w, i)))
				if err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
				mu.Lock()
				published[c] = append(published[c], serial)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, c := range chans {
		want := slices.Sorted(slices.Values(published[c]))
		rec.waitSerials(t, c, want)
	}
	st := l.Stats()
	if st.Deliveries != publishers*perPublisher || st.Channels != len(chans) {
		t.Errorf("stats %+v", st)
	}
}

// TestLiveGapRepair loses messages behind Live's back; the next message
// reveals the gap, which is filled before it, in order.
func TestLiveGapRepair(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{Batch: 8}), Handler: rec.handle})
	subscribe(t, l, "c")

	want := publishN(t, p, "c", 3)
	publish(t, p, msg("other", "ev", "x")) // interleaved serials
	rec.waitSerials(t, "c", want)

	l.DropCoreSub(testApp, "c")
	want = append(want, publishN(t, p, "c", 40)...)
	if err := l.RestoreCoreSub(testApp, "c"); err != nil {
		t.Fatal(err)
	}
	want = append(want, publish(t, p, msg("c", "ev", "after")))
	rec.waitSerials(t, "c", want)

	st := l.Stats()
	if st.GapsRepaired != 1 || st.Repaired != 40 || st.GapsUnrecovered != 0 {
		t.Errorf("stats %+v", st)
	}
	got := rec.deliveries("c")
	for i := 1; i < len(got); i++ {
		if got[i].PrevSerial != got[i-1].Serial {
			t.Fatalf("delivery %d: prev %d, want %d", i, got[i].PrevSerial, got[i-1].Serial)
		}
	}
}

// TestLiveProbe: messages lost while the connection was away are found by
// the probe that follows a reconnect, without waiting for a new message.
func TestLiveProbe(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{}), Handler: rec.handle})
	subscribe(t, l, "c")
	subscribe(t, l, "quiet")
	want := publishN(t, p, "c", 2)
	rec.waitSerials(t, "c", want)

	l.DropCoreSub(testApp, "c")
	want = append(want, publishN(t, p, "c", 5)...)
	if err := l.RestoreCoreSub(testApp, "c"); err != nil {
		t.Fatal(err)
	}
	l.Probe()
	rec.waitSerials(t, "c", want)
	if got := rec.deliveries("quiet"); len(got) != 0 {
		t.Errorf("quiet channel got %v", serialsOf(got))
	}
}

// TestLiveSlowConsumer makes nats.go drop messages (a blocked shard with a
// queue of one) and checks that gap repair delivers every serial exactly
// once, in order.
func TestLiveSlowConsumer(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	rec := newRecorder()
	release := make(chan struct{})
	var once sync.Once
	handler := func(d *stream.Delivery) {
		// Blocking breaks Handler's contract on purpose: it is the way to
		// fill the queue deterministically.
		once.Do(func() { <-release })
		rec.handle(d)
	}
	l := startLive(t, stream.LiveConfig{
		NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{Batch: 16}),
		Handler: handler, Shards: 1, QueueLen: 1,
	})
	subscribe(t, l, "c")

	want := publishN(t, p, "c", 60)
	testinfra.WaitUntil(t, "dropped messages", func() bool { return l.Stats().Dropped > 0 })
	close(release)
	// The last message may have been dropped too, and so may the one sent
	// to reveal it while the shard is still busy: keep sending one more
	// until the tail arrives (a drop is only ever repaired by a later
	// message).
	for attempt := 0; ; attempt++ {
		want = append(want, publish(t, p, msg("c", "ev", "last")))
		// Not a failure when it runs out: then one more message goes out.
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && len(rec.deliveries("c")) < len(want) {
			time.Sleep(pollInterval)
		}
		if len(rec.deliveries("c")) >= len(want) || attempt == 10 {
			break
		}
	}
	rec.waitSerials(t, "c", want)
	st := l.Stats()
	if st.GapsRepaired == 0 || st.Repaired == 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("stats %+v", st)
}

func TestLiveRefCount(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	rec := newRecorder()
	// One shard: messages are handled in the order they arrive, so a
	// message on "marker" proves an earlier one on "c" was not delivered.
	l := startLive(t, stream.LiveConfig{NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{}), Handler: rec.handle, Shards: 1})
	subscribe(t, l, "c")
	subscribe(t, l, "c")
	subscribe(t, l, "marker")
	if st := l.Stats(); st.Channels != 2 {
		t.Fatalf("channels = %d, want 2", st.Channels)
	}
	l.Unsubscribe(testApp, "nope") // unknown: no-op

	want := []uint64{publish(t, p, msg("c", "ev", "1"))}
	rec.waitSerials(t, "c", want)

	l.Unsubscribe(testApp, "c") // one reference left
	want = append(want, publish(t, p, msg("c", "ev", "2")))
	rec.waitSerials(t, "c", want)

	l.Unsubscribe(testApp, "c") // gone
	publish(t, p, msg("c", "ev", "3"))
	marker := publish(t, p, msg("marker", "ev", "m"))
	rec.waitSerials(t, "marker", []uint64{marker})
	if got := serialsOf(rec.deliveries("c")); !slices.Equal(got, want) {
		t.Fatalf("after the last unsubscribe: %v, want %v", got, want)
	}
	if st := l.Stats(); st.Channels != 1 {
		t.Errorf("channels = %d, want 1", st.Channels)
	}

	// Subscribing again starts afresh: no repair back to the old position.
	subscribe(t, l, "c")
	next := publish(t, p, msg("c", "ev", "4"))
	rec.waitSerials(t, "c", append(want, next))
}

func TestLiveClosed(t *testing.T) {
	e := newEnv(t)
	l, err := stream.NewLive(stream.LiveConfig{NC: e.liveNC, Reader: newReader(t, e.nc, stream.ReaderConfig{}), Handler: func(*stream.Delivery) {}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	subscribe(t, l, "c")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := l.Subscribe(testApp, "c"); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("Subscribe after Run: %v", err)
	}
	if st := l.Stats(); st.Channels != 0 {
		t.Errorf("channels after Run = %d", st.Channels)
	}
	if err := l.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}

	if _, err := stream.NewLive(stream.LiveConfig{NC: e.liveNC}); err == nil {
		t.Error("NewLive without Reader and Handler succeeded")
	}
}
