package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Scenario 5: disk and memory pressure.

// faultStoreFull is in the error a publisher gets when JetStream
// refuses a publish for want of storage (stream.ErrStoreFull's message).
const faultStoreFull = "message store full"

// Sizes of the store-full scenario.
const (
	// faultPayloadBytes pads each message, so that the store fills in
	// seconds.
	faultPayloadBytes = 8 << 10
	// faultFullWithin bounds how long the publishers take to fill the
	// store.
	faultFullWithin = 2 * time.Minute
)

// TestChaosJetStreamFull: every NATS node's JetStream file store is
// capped (max_file_store: 4 MiB; 32 MiB in the long version) and
// publishers fill it. Once full, publishes are refused at once with a
// 503 whose message says the message store is full; a refused publish is neither
// delivered nor in the history (nothing half-written). When the cap is
// raised (an operator adds disk: NATS reloads a larger max_file_store),
// publishes are acknowledged again, with no restart; every acknowledged
// publish is delivered once and in history once, and (long version)
// usage counts exactly the acknowledged publishes.
func TestChaosJetStreamFull(t *testing.T) {
	store := pick(int64(4<<20), int64(32<<20))
	refusing := pick(3*time.Second, 20*time.Second)
	steady := pick(time.Second, 5*time.Second)
	top := faultTopology(t, func(o *topology.Options) { o.NATSMaxFileStore = store })
	app := newApp(t, top, "store-full", nil)
	chans := []string{"full-a", "full-b"}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans {
		tr.subscribe(top.URL(), ch, 2)
		tr.publish(ch, 1, time.Millisecond, faultPayloadBytes)
	}
	pids := faultPIDs(top)
	began := time.Now()
	testinfra.WaitUntilWithin(t, "publishes refused for a full store", faultFullWithin, func() bool {
		return tr.window(time.Time{}, time.Now()).failedWith(faultStoreFull) > 0
	})
	full := time.Now()
	time.Sleep(refusing)
	raised := time.Now()
	if err := top.SetNATSMaxFileStore(4 * store); err != nil {
		t.Fatal(err)
	}
	publishedAtRaise := tr.published.Load()
	testinfra.WaitUntilWithin(t, "publishes acknowledged again", faultCatchUpWithin, func() bool {
		return tr.published.Load() > publishedAtRaise+10
	})
	recovered := time.Since(raised)
	time.Sleep(steady)
	tr.stopPublishing()
	tr.waitDelivered()
	// Usage waits for the meter to read the refusals' election hole from
	// the stream (GapGrace, 30 s): the long version checks it; the short
	// one checks history and deliveries (billing's
	// TestPublishedCounterReadsHeldSerials covers the meter).
	var usage int64 = -1
	if long() {
		_, usage = faultCatchUp(t, top, tr, chans)
	} else {
		testinfra.WaitUntilWithin(t, "history stored through the last serial", faultCatchUpWithin, func() bool {
			return faultStoredThrough(t, top) >= tr.lastAcked(chans)
		})
	}
	faultSamePIDs(t, top, pids)

	fill, refused, after := tr.window(began, full), tr.window(full, raised), tr.window(raised, time.Now())
	tr.logErrors("store full", refused)
	all := tr.window(time.Time{}, time.Now())
	for msg := range all.errors {
		if !strings.Contains(msg, "503") {
			t.Errorf("refusal %q, want a 503", msg)
		}
	}
	storeFull := all.failedWith(faultStoreFull)
	if storeFull == 0 {
		t.Error("no refusal said the message store is full")
	}
	stored := 0
	for _, ch := range chans {
		stored += faultHistoryExact(t, tr, ch)
		for _, id := range tr.ids(ch, false) {
			if n := tr.receivedCount(id); n > 0 {
				t.Errorf("refused publish %s delivered %d times", id, n)
			}
		}
	}
	figures(t, "store-full", "max_file_store %d MiB per node (load %s); filling: %s; full for %s: %s; "+
		"%d refusals said message store full; acknowledged again %s after the cap was raised (no restart); after: %s; "+
		"history %d messages, every acknowledged publish once and no refused one; no refused publish delivered; "+
		"usage messages_published %d of %d acknowledged (-1: not waited for in the short version)",
		store>>20, load(), fill, refusing, refused, storeFull, recovered.Round(time.Millisecond), after, stored,
		usage, tr.published.Load())
}

// Sizes and timings of the slow-reader scenario.
const (
	// faultSendQueueBytes is the gateways' --send-queue-bytes (the
	// default, named here for the bound).
	faultSendQueueBytes = gateway.DefaultSendQueueBytes
	// faultRSSEvery is how often the gateway's RSS is sampled.
	faultRSSEvery = 50 * time.Millisecond
	// faultCutWithin bounds how long the slow readers take to be cut.
	faultCutWithin = 2 * time.Minute
)

// TestChaosSlowReaders: clients connected to gateway 0 subscribe to as
// many channels as a connection may (100 in the short version; the
// gateway's limit of 1,000 in the long one) and never read, while 8 KiB
// messages are published to all of them. Each is closed with 4100 once
// its send queue (--send-queue-bytes) overflows; the gateway's RSS stays
// under base + slow readers × 2 × send-queue-bytes (the 2 for Go's
// garbage collector, which lets the heap grow to twice what is live);
// the other subscribers of the same gateway lose nothing, are not
// closed, and publishes do not fail.
func TestChaosSlowReaders(t *testing.T) {
	nChans, slow := pick(100, gatewaySubscriptionLimit), pick(5, 50)
	top := faultTopology(t)
	app := newApp(t, top, "slow-readers", nil)
	gw0 := serverURL(t, top, topology.RoleGateway, 0)
	pid := top.PID(topology.RoleGateway, 0)
	chans := make([]string, nChans)
	for i := range chans {
		chans[i] = fmt.Sprintf("all-%04d", i)
	}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans[:2] {
		tr.subscribe(gw0, ch, 2)
	}
	rss := faultSampleRSS(t, pid)
	// Warm the gateway up with the normal subscribers and small messages,
	// then take its base.
	for _, ch := range chans[:2] {
		tr.publish(ch, 1, faultPublishEvery, 0)
	}
	time.Sleep(pick(time.Second, 5*time.Second))
	base := rss.peak()

	readers := make([]*testenv.PusherClient, slow)
	for i := range readers {
		readers[i] = faultSubscribeAll(t, gw0, app.Key, chans)
	}
	closesBefore := faultMetric(t, gw0, "herald_gateway_slow_consumer_closes_total", "")
	floodAt := time.Now()
	rss.reset()
	faultFlood(tr, chans, faultPayloadBytes)
	testinfra.WaitUntilWithin(t, "every slow reader cut", faultCutWithin, func() bool {
		return faultMetric(t, gw0, "herald_gateway_slow_consumer_closes_total", "")-closesBefore >= float64(slow)
	})
	cut := time.Since(floodAt)
	time.Sleep(pick(500*time.Millisecond, 5*time.Second))
	peak := rss.peak()
	tr.stopPublishing()
	tr.waitDelivered()
	rss.stop()

	for i, p := range readers {
		if code := faultDrainToClose(p); code != 4100 {
			t.Errorf("slow reader %d ended with %d, want 4100", i, code)
		}
	}
	if n := tr.allCloses(); n > 0 {
		t.Errorf("%d connections of the readers that keep up were closed", n)
	}
	all := tr.window(time.Time{}, time.Now())
	tr.logErrors("slow readers", all)
	if all.failed > 0 {
		t.Errorf("%d publishes failed", all.failed)
	}
	bound := base + int64(slow)*2*faultSendQueueBytes
	if peak > bound {
		t.Errorf("gateway RSS peaked at %d MiB, over base %d MiB + %d slow readers × 2 × %d KiB = %d MiB",
			peak>>20, base>>20, slow, faultSendQueueBytes>>10, bound>>20)
	}
	figures(t, "slow-readers", "%d slow readers × %d channels on gateway 0, %d KiB messages (load %s): all closed with 4100 within %s; "+
		"gateway RSS base %s, peak %s (+%s, %.0f KiB per slow reader), bound %s; "+
		"publishes: %s; %d closes among the readers that keep up, their serials gap-free",
		slow, nChans, faultPayloadBytes>>10, load(), cut.Round(time.Millisecond),
		mib(base), mib(peak), mib(peak-base), float64(peak-base)/float64(slow)/1024, mib(bound), all, tr.allCloses())
}

// gatewaySubscriptionLimit is how many channels one connection may join
// (gateway.DefaultMaxSubscriptions).
const gatewaySubscriptionLimit = gateway.DefaultMaxSubscriptions

// faultSubscribeAll connects to baseURL and subscribes to every channel
// of chans, reading the answers; from then on nobody reads it.
func faultSubscribeAll(t *testing.T, baseURL, key string, chans []string) *testenv.PusherClient {
	t.Helper()
	p, err := testenv.DialPusher(t, baseURL, key, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		b, _ := json.Marshal(map[string]any{"event": protocol.EventSubscribe, "data": map[string]string{"channel": ch}})
		if err := p.WS().WriteText(string(b)); err != nil {
			t.Fatal(err)
		}
	}
	// Messages of channels already joined may come between the answers.
	for joined := 0; joined < len(chans); {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("slow reader's subscriptions: %v", err)
		}
		switch e.Event {
		case protocol.EventSubscriptionSucceeded:
			joined++
		case faultEvent:
		default:
			t.Fatalf("slow reader's subscription: %s", e.Raw)
		}
	}
	return p
}

// faultFlood publishes messages of padding bytes to every channel of
// chans, as many channels per publish as an app may, until tr's
// publishers stop.
func faultFlood(tr *faultTraffic, chans []string, padding int) {
	client := tr.sdk()
	pad := strings.Repeat("x", padding)
	tr.pubs.Go(func() error {
		for j := 0; tr.pubCtx.Err() == nil; j++ {
			for k := 0; k < len(chans); k += channels.DefaultMaxChannelsPerPublish {
				batch := chans[k:min(k+channels.DefaultMaxChannelsPerPublish, len(chans))]
				id := fmt.Sprintf("flood-%d-%d", j, k)
				began := time.Now()
				err := client.TriggerMulti(batch, faultEvent, map[string]string{"id": id, "pad": pad})
				tr.record(faultSample{at: began, latency: time.Since(began), id: id}, err)
			}
			time.Sleep(faultPublishEvery)
		}
		return nil
	})
}

// faultDrainToClose reads p's frames, undecoded (megabytes the kernel
// buffered), until its connection ends and returns the close code (0
// without one).
func faultDrainToClose(p *testenv.PusherClient) uint16 {
	c := p.WS()
	for {
		_ = c.SetDeadline(time.Now().Add(testenv.PusherTimeout))
		op, payload, err := c.ReadMessage()
		if err != nil {
			return 0
		}
		if op == ws.OpClose {
			if len(payload) < 2 {
				return 0
			}
			return uint16(payload[0])<<8 | uint16(payload[1])
		}
	}
}

// faultRSS samples a process's resident set size until stopped.
type faultRSS struct {
	mu      sync.Mutex
	max     int64
	stopped chan struct{}
	done    chan struct{}
}

// faultSampleRSS starts sampling pid's RSS; it stops at cleanup if not
// before.
func faultSampleRSS(t *testing.T, pid int) *faultRSS {
	r := &faultRSS{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(faultRSSEvery)
		defer tick.Stop()
		for {
			if v, err := processRSS(pid); err == nil {
				r.mu.Lock()
				r.max = max(r.max, v)
				r.mu.Unlock()
			}
			select {
			case <-r.stopped:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *faultRSS) peak() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}

func (r *faultRSS) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.max = 0
}

func (r *faultRSS) stop() {
	select {
	case <-r.stopped:
	default:
		close(r.stopped)
	}
	<-r.done
}

// processRSS is pid's resident set size in bytes (Linux: VmRSS).
func processRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}
