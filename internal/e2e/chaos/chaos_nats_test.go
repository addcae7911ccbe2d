package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/faultproxy"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Scenario 3: NATS faults under publishes through the balancer and
// subscribers that must receive every acknowledged message once.

// Timings of the NATS scenarios.
const (
	// faultElectionGrace is how long after a killed node is back (current
	// again) publish errors still count as the election's.
	faultElectionGrace = 10 * time.Second
	// faultPublishEvery is each publisher's pause between publishes.
	faultPublishEvery = 20 * time.Millisecond
	// faultMessageStream is the JetStream stream of every message.
	faultMessageStream = "HERALD_MSG"
)

// TestChaosNATSNodeKilled: the node leading the message stream is killed
// (SIGKILL) during publishes and started again (the long version does it
// three times, each node down 15 s). Every acknowledged publish is
// delivered once to every subscriber; publish errors happen only between
// a kill and a few seconds after the node is back, are 503s a client
// retries, and are counted; no other process restarts.
func TestChaosNATSNodeKilled(t *testing.T) {
	rounds, down := pick(1, 3), pick(2*time.Second, 15*time.Second)
	steady := pick(500*time.Millisecond, 5*time.Second)
	top := faultTopology(t)
	app := newApp(t, top, "nats-kill", nil)
	chans := []string{"kill-a", "kill-b"}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans {
		tr.subscribe(top.URL(), ch, pick(3, 10))
		tr.publish(ch, 1, faultPublishEvery, 0)
	}
	pids := faultPIDs(top)
	ctx, cancel := context.WithTimeout(context.Background(), faultOpTimeout*time.Duration(rounds))
	defer cancel()
	time.Sleep(steady)

	type fault struct{ from, to time.Time }
	var faults []fault
	var killed []string
	for round := range rounds {
		leader, err := top.StreamLeader(faultMessageStream)
		if err != nil {
			t.Fatal(err)
		}
		killAt := time.Now()
		if err := top.Kill(ctx, topology.RoleNATS, leader); err != nil {
			t.Fatal(err)
		}
		time.Sleep(down)
		if err := top.Start(ctx, topology.RoleNATS, leader); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		faults = append(faults, fault{killAt, back.Add(faultElectionGrace)})
		killed = append(killed, fmt.Sprintf("nats-%d", leader))
		time.Sleep(steady)
		// Publishes in flight at the kill count: they began just before.
		w := tr.window(killAt.Add(-faultPublishTimeout), time.Now())
		tr.logErrors(fmt.Sprintf("round %d", round), w)
		figures(t, "nats-kill", "round %d: nats %d (the %s leader) killed, down %s, current again %s after its start; "+
			"publishes from the kill to %s later: %s",
			round, leader, faultMessageStream, down, back.Sub(killAt.Add(down)).Round(time.Millisecond),
			time.Since(killAt).Round(time.Second), w)
	}
	tr.stopPublishing()
	tr.waitDelivered()
	_, usage := faultCatchUp(t, top, tr, chans)
	faultSamePIDs(t, top, pids, killed...)

	// Errors only during the elections, and only the unavailable kind.
	tr.mu.Lock()
	for _, s := range tr.samples {
		if s.err == "" {
			continue
		}
		if !strings.Contains(s.err, "503") {
			t.Errorf("publish error not a 503: %s", s.err)
		}
		// A publish fails when its answer comes: that must be between a
		// kill and the end of its grace.
		failedAt := s.at.Add(s.latency)
		inFault := false
		for _, f := range faults {
			inFault = inFault || (!failedAt.Before(f.from) && failedAt.Before(f.to))
		}
		if !inFault {
			t.Errorf("publish failed at %s, outside every kill-to-recovery window: %s", failedAt.Format(time.RFC3339Nano), s.err)
		}
	}
	tr.mu.Unlock()
	all := tr.window(time.Time{}, time.Now())
	figures(t, "nats-kill", "%d rounds (load %s): %s; %d subscriber closes; serials gap-free, no duplicates; "+
		"history holds every acknowledged serial; usage messages_published %d of %d acknowledged",
		rounds, load(), all, tr.allCloses(), usage, tr.published.Load())
}

// TestChaosNATSConnectionDropped: gateway 0's NATS connections are cut
// and refused for a while (2 s; five times 8 s in the long version),
// then restored. Its subscribers stay connected: live delivery resumes
// by itself once the gateway has reconnected, and the gap repair
// delivers what was published meanwhile, so that every subscriber of
// either gateway has every acknowledged serial once, in order. No
// publish fails (they go through the control planes) and nothing
// restarts.
func TestChaosNATSConnectionDropped(t *testing.T) {
	rounds, outage := pick(1, 5), pick(2*time.Second, 8*time.Second)
	steady := pick(500*time.Millisecond, 5*time.Second)
	top := faultTopology(t, func(o *topology.Options) { o.NATSProxies = true })
	app := newApp(t, top, "nats-drop", nil)
	gw0, gw1 := serverURL(t, top, topology.RoleGateway, 0), serverURL(t, top, topology.RoleGateway, 1)
	chans := []string{"drop-a", "drop-b"}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans {
		tr.subscribe(gw0, ch, pick(3, 10))
		tr.subscribe(gw1, ch, pick(1, 3))
		tr.publish(ch, 1, faultPublishEvery, 0)
	}
	proxies, err := top.NATSProxies(topology.RoleGateway, 0)
	if err != nil {
		t.Fatal(err)
	}
	pids := faultPIDs(top)
	time.Sleep(steady)

	for round := range rounds {
		reconnects := faultMetric(t, gw0, "herald_nats_reconnects_total", `conn="live"`)
		proxies.Refuse(true)
		cutAt := time.Now()
		cut := proxies.Cut()
		time.Sleep(outage)
		proxies.Restore()
		restored := time.Now()
		target := tr.lastAcked(chans)
		testinfra.WaitUntilWithin(t, "gateway 0 reconnected to NATS", faultCatchUpWithin, func() bool {
			return faultMetric(t, gw0, "herald_nats_reconnects_total", `conn="live"`) > reconnects &&
				faultMetric(t, gw0, "herald_nats_connected", `conn="live"`) == 1
		})
		reconnected := time.Since(restored)
		testinfra.WaitUntilWithin(t, "gateway 0's subscribers repaired", faultCatchUpWithin, func() bool {
			return tr.reached(gw0, target)
		})
		repaired := time.Since(restored)
		w := tr.window(cutAt, restored)
		figures(t, "nats-drop", "round %d: %d NATS connections of gateway 0 cut, refused for %s; "+
			"reconnected %s after the restore; its subscribers had every serial acknowledged meanwhile %s after the restore; "+
			"publishes meanwhile: %s", round, cut, outage, reconnected.Round(time.Millisecond), repaired.Round(time.Millisecond), w)
		time.Sleep(steady)
	}
	tr.stopPublishing()
	tr.waitDelivered()
	faultSamePIDs(t, top, pids)
	all := tr.window(time.Time{}, time.Now())
	tr.logErrors("all", all)
	if all.failed > 0 {
		t.Errorf("%d publishes failed; the control planes' NATS connections were never cut", all.failed)
	}
	if n := tr.allCloses(); n > 0 {
		t.Errorf("%d subscriber connections ended; the drop must not reach clients", n)
	}
	figures(t, "nats-drop", "%d rounds (load %s): %s; 0 subscriber closes; serials of every subscriber of both gateways gap-free, no duplicates; no restart",
		rounds, load(), all)
}

// TestChaosNATSSlow: every herald process's NATS connections get latency
// both ways (25 ms each way for 2 s; 100 ms for 30 s in the long
// version). Publishes get slower, by at least one round trip through
// the latency, and none fails or is lost; latency returns to its level
// once the proxies are restored.
func TestChaosNATSSlow(t *testing.T) {
	lat, slow := pick(25*time.Millisecond, 100*time.Millisecond), pick(2*time.Second, 30*time.Second)
	steady := pick(time.Second, 10*time.Second)
	top := faultTopology(t, func(o *topology.Options) { o.NATSProxies = true })
	app := newApp(t, top, "nats-slow", nil)
	chans := []string{"slow-a", "slow-b"}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans {
		tr.subscribe(top.URL(), ch, pick(3, 10))
		tr.publish(ch, pick(1, 2), faultPublishEvery, 0)
	}
	var groups []faultproxy.Group
	for _, role := range []topology.Role{topology.RoleControlPlane, topology.RoleGateway} {
		for i := range top.Count(role) {
			g, err := top.NATSProxies(role, i)
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, g)
		}
	}
	pids := faultPIDs(top)
	time.Sleep(steady)

	slowAt := time.Now()
	for _, g := range groups {
		g.SetLatency(faultproxy.Up, lat)
		g.SetLatency(faultproxy.Down, lat)
	}
	time.Sleep(slow)
	restored := time.Now()
	for _, g := range groups {
		g.Restore()
	}
	time.Sleep(steady)
	tr.stopPublishing()
	tr.waitDelivered()
	faultSamePIDs(t, top, pids)

	// The first publishes after the restore still met queued latency.
	before, during, after := tr.window(time.Time{}, slowAt), tr.window(slowAt, restored), tr.window(restored.Add(steady/2), time.Now())
	tr.logErrors("NATS slow", during)
	if all := tr.window(time.Time{}, time.Now()); all.failed > 0 {
		t.Errorf("%d publishes failed", all.failed)
	}
	if during.p50 < 2*lat {
		t.Errorf("publish p50 with %s each way = %s, under one round trip: was the latency injected?", lat, during.p50)
	}
	figures(t, "nats-slow", "latency %s each way on every NATS connection for %s (load %s); before: %s; during: %s; after: %s; "+
		"serials gap-free, no duplicates, %d subscriber closes", lat, slow, load(), before, during, after, tr.allCloses())
}
