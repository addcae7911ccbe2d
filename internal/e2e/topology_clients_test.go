package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// The clients of the topology tests: subscribers that reconnect through
// the balancer and resume from their last serial, publishers that use
// pusher-http-go unmodified, and the serial checker between them.

// topologyEvent is the event the publishers send.
const topologyEvent = "tick"

// reconnectPause is how long a subscriber waits before dialling again
// after a failed attempt (pusher-js reconnects at once after 4200, then
// backs off).
const reconnectPause = 100 * time.Millisecond

// trafficOptions shape a run of subscribers and publishers.
type trafficOptions struct {
	channels    []string
	subscribers int // per channel
	publishers  int // per channel
	// publishEvery is each publisher's pause between publishes.
	publishEvery time.Duration
}

// traffic is subscribers and publishers running against a topology.
type traffic struct {
	t       *testing.T
	top     *topology.Topology
	app     topology.App
	serials *topology.Serials

	mu         sync.Mutex
	reconnects []time.Duration
	closes     map[uint16]int
	// errorKinds counts publish errors by message.
	errorKinds map[string]int

	published     atomic.Int64
	publishErrors atomic.Int64

	subs, pubs       errgroup.Group
	stopSubs, stopPu context.CancelFunc
	pubCtx, subCtx   context.Context
}

// startTraffic connects every subscriber (each subscribed before it
// returns) and then starts the publishers.
func startTraffic(t *testing.T, top *topology.Topology, app topology.App, o trafficOptions) *traffic {
	t.Helper()
	tr := &traffic{t: t, top: top, app: app, serials: topology.NewSerials(), closes: map[uint16]int{}, errorKinds: map[string]int{}}
	tr.subCtx, tr.stopSubs = context.WithCancel(context.Background())
	tr.pubCtx, tr.stopPu = context.WithCancel(context.Background())
	t.Cleanup(func() { tr.stopPu(); tr.stopSubs(); _ = tr.pubs.Wait(); _ = tr.subs.Wait() })
	for _, ch := range o.channels {
		for i := range o.subscribers {
			name := fmt.Sprintf("%s-sub-%d", ch, i)
			tr.serials.Subscribed(name, ch, 0)
			first := make(chan error, 1)
			tr.subs.Go(func() error { tr.subscribe(name, ch, first); return nil })
			if err := <-first; err != nil {
				t.Fatalf("%s: first subscribe: %v", name, err)
			}
		}
	}
	for _, ch := range o.channels {
		for range o.publishers {
			client := tr.sdk()
			tr.pubs.Go(func() error { tr.publish(client, ch, o.publishEvery); return nil })
		}
	}
	return tr
}

// subscribe keeps name subscribed to ch until the subscribers stop:
// after a close it dials the balancer again and resumes after the last
// serial it received. first gets the outcome of the first subscription.
func (tr *traffic) subscribe(name, ch string, first chan<- error) {
	var closedAt time.Time
	for tr.subCtx.Err() == nil {
		p, err := tr.dialAndSubscribe(ch, tr.serials.Last(name, ch))
		if first != nil {
			first <- err
			first = nil
			if err != nil {
				return
			}
		}
		if err != nil {
			time.Sleep(reconnectPause)
			continue
		}
		if !closedAt.IsZero() {
			tr.mu.Lock()
			tr.reconnects = append(tr.reconnects, time.Since(closedAt))
			tr.mu.Unlock()
		}
		closedAt = tr.read(p, name, ch)
	}
}

// read records the subscriber's events until its connection ends and
// returns when it ended.
func (tr *traffic) read(p *testenv.PusherClient, name, ch string) time.Time {
	defer p.WS().Close()
	stop := context.AfterFunc(tr.subCtx, func() { _ = p.WS().Close() })
	defer stop()
	for {
		e, err := p.Next()
		if err != nil {
			var cl testenv.Closed
			tr.mu.Lock()
			if errors.As(err, &cl) {
				tr.closes[cl.Code]++
			} else {
				tr.closes[0]++
			}
			tr.mu.Unlock()
			return time.Now()
		}
		if e.Event == topologyEvent && e.Channel == ch {
			tr.serials.Received(name, ch, e.Serial)
		}
	}
}

// dialAndSubscribe connects through the balancer and subscribes to ch,
// resuming after serial after when it is not 0; events that arrive
// before the subscription succeeds are the replay, and are kept for read
// by not being consumed here: the subscribe answer comes first.
func (tr *traffic) dialAndSubscribe(ch string, after uint64) (*testenv.PusherClient, error) {
	p, err := testenv.DialPusher(tr.t, tr.top.URL(), tr.app.Key, "", nil)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"channel": ch}
	if after > 0 {
		data["resume_from"] = after
	}
	b, _ := json.Marshal(map[string]any{"event": protocol.EventSubscribe, "data": data})
	if err := p.WS().WriteText(string(b)); err != nil {
		_ = p.WS().Close()
		return nil, err
	}
	e, err := p.Next()
	if err != nil {
		_ = p.WS().Close()
		return nil, err
	}
	if e.Event != protocol.EventSubscriptionSucceeded {
		_ = p.WS().Close()
		return nil, fmt.Errorf("subscribe answered %s: %s", e.Event, e.Raw)
	}
	return p, nil
}

// publish triggers events on ch through the balancer with pusher-http-go
// until the publishers stop, recording each acknowledged serial.
func (tr *traffic) publish(client *pusher.Client, ch string, every time.Duration) {
	for i := 0; tr.pubCtx.Err() == nil; i++ {
		if err := client.Trigger(ch, topologyEvent, map[string]int{"n": i}); err != nil {
			tr.publishErrors.Add(1)
			tr.mu.Lock()
			tr.errorKinds[err.Error()]++
			tr.mu.Unlock()
		} else {
			tr.published.Add(1)
		}
		time.Sleep(every)
	}
}

// sdk returns a pusher-http-go client of the app on the balancer whose
// transport reads the serials of Herald's answers (the SDK returns none).
func (tr *traffic) sdk() *pusher.Client {
	u, err := url.Parse(tr.top.URL())
	if err != nil {
		tr.t.Fatal(err)
	}
	return &pusher.Client{
		AppID: tr.app.ID, Key: tr.app.Key, Secret: tr.app.Secret, Host: u.Host,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: fleet.RecordSerials(http.DefaultTransport, tr.serials.Acked)},
	}
}

// stopPublishing stops the publishers and waits for them.
func (tr *traffic) stopPublishing() {
	tr.stopPu()
	_ = tr.pubs.Wait()
}

// waitDelivered waits until every subscriber has every acknowledged
// serial, then stops the subscribers and checks the serials.
func (tr *traffic) waitDelivered(within time.Duration) {
	tr.t.Helper()
	deadline := time.Now().Add(within)
	for tr.serials.Missing() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	tr.stopSubs()
	_ = tr.subs.Wait()
	if err := tr.serials.Check(); err != nil {
		tr.t.Fatal(err)
	}
}

// reconnectP99 is the 99th percentile of the time from a close to the
// next successful subscription, and how many reconnects there were.
func (tr *traffic) reconnectP99() (time.Duration, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.reconnects) == 0 {
		return 0, 0
	}
	d := slices.Clone(tr.reconnects)
	slices.Sort(d)
	return d[(len(d)*99)/100], len(d)
}

// logErrors logs the publish errors so far by kind, and forgets them.
func (tr *traffic) logErrors(phase string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for msg, n := range tr.errorKinds {
		tr.t.Logf("%s: %d publish errors: %s", phase, n, msg)
	}
	clear(tr.errorKinds)
}

// closed is how many connections ended with code (0: without a close
// frame).
func (tr *traffic) closed(code uint16) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.closes[code]
}

// newTopologyApp creates an app through the balancer and waits until
// every gateway knows its key.
func newTopologyApp(t *testing.T, top *topology.Topology, id string) topology.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout)
	defer cancel()
	app, err := top.CreateApp(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.Sensitive(app.Secret)
	for i := range top.Count(topology.RoleGateway) {
		u, err := top.ServerURL(topology.RoleGateway, i)
		if err != nil {
			t.Fatal(err)
		}
		testinfra.WaitUntil(t, "gateway knows the new key", func() bool {
			p, err := testenv.DialPusher(t, u, app.Key, "", nil)
			if p != nil {
				_ = p.WS().Close()
			}
			return err == nil
		})
	}
	return app
}
