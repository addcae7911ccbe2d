package gateway

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

// replayApp is the app the replay tests resume on: default settings, so
// the resume window covers what they publish.
func replayApp() *channels.AppConfig {
	return &channels.AppConfig{ID: benchApp, Enabled: true, Settings: channels.DefaultSettings()}
}

// A resume's replay runs on its own goroutine, bounded by replaySlots:
// with every slot taken, startReplay still returns at once, so the poller
// worker that handled the subscribe is free for other clients (it used to
// read the stream there, and a mass reconnection queued every client
// behind thousands of reads); the replay proceeds once a slot is free and
// the client gets the missed serials, then the live ones.
func TestReplayLeavesTheWorker(t *testing.T) {
	e := newContinuityEnv(t)
	s := e.publish(t, "resume", 3)
	c, sub := e.subscribed(t, "resume", 0)
	c.mu.Lock()
	sub.replaying, sub.verify = true, false
	c.mu.Unlock()
	for range cap(e.g.replaySlots) {
		e.g.replaySlots <- struct{}{}
	}
	returned := make(chan struct{})
	go func() {
		e.g.startReplay(c, replayApp(), sub, replayPlan{resume: true, from: s[0]})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(continuityWait):
		t.Fatal("startReplay waited for a free replay slot")
	}
	// A live frame meanwhile is held, not sent ahead of the replay.
	next := s[2] + 1000
	live(c, sub, next, s[2])
	c.mu.Lock()
	queued := len(c.queue)
	c.mu.Unlock()
	if queued != 0 {
		t.Fatalf("%d frames queued before the replay could run", queued)
	}
	for range cap(e.g.replaySlots) {
		<-e.g.replaySlots
	}
	// The missed serials, the resume result (no serial), the held frame.
	want := []uint64{s[1], s[2], 0, next}
	if got := queuedSerials(t, c, len(want)); !slices.Equal(got, want) {
		t.Fatalf("client got serials %v, want %v", got, want)
	}
}

// A replay whose subscription was left meanwhile sends nothing and
// releases what it held.
func TestReplayAfterUnsubscribe(t *testing.T) {
	e := newContinuityEnv(t)
	s := e.publish(t, "left", 2)
	c, sub := e.subscribed(t, "left", 0)
	c.mu.Lock()
	sub.replaying = true
	c.subs.remove("left")
	c.mu.Unlock()
	e.g.replay(c, replayApp(), sub, replayPlan{resume: true, from: s[0]})
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) != 0 || sub.replaying || sub.held != nil {
		t.Fatalf("queued %d frames, replaying=%v, held %d", len(c.queue), sub.replaying, len(sub.held))
	}
}

// A client that left while its replay waited for a slot costs no read of
// the stream once the slot frees.
func TestReplayWaitingForASlotSkipsALeftClient(t *testing.T) {
	e := newContinuityEnv(t)
	s := e.publish(t, "waiting", 2)
	c, sub := e.subscribed(t, "waiting", 0)
	c.mu.Lock()
	sub.replaying = true
	c.mu.Unlock()
	for range cap(e.g.replaySlots) {
		e.g.replaySlots <- struct{}{}
	}
	before := testutil.ToFloat64(e.g.metrics.replayed)
	e.g.startReplay(c, replayApp(), sub, replayPlan{resume: true, from: s[0]})
	c.mu.Lock()
	c.subs.remove("waiting")
	c.mu.Unlock()
	for range cap(e.g.replaySlots) {
		<-e.g.replaySlots
	}
	testinfra.WaitUntilWithin(t, "the replay to give up", continuityWait, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !sub.replaying
	})
	c.mu.Lock()
	queued := len(c.queue)
	c.mu.Unlock()
	if queued != 0 || testutil.ToFloat64(e.g.metrics.replayed) != before {
		t.Fatalf("queued %d frames, replayed %v more", queued, testutil.ToFloat64(e.g.metrics.replayed)-before)
	}
}
