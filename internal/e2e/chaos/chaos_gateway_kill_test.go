package chaos

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Scenario 1 of docs/reliability.md: a gateway killed with SIGKILL under
// load. Subscribers spread over the two gateways through the balancer;
// publishers publish through it at a steady rate; gateway 0 is killed.
// Its clients find their connection broken, dial the balancer again,
// land on gateway 1 and resume after the last serial they received.
// Invariant: every acknowledged message reaches every subscriber exactly
// once (each subscriber stays subscribed throughout); the bound on the
// storm (all clients back within stormBound) is generous, documented,
// not a performance threshold.
func TestChaosGatewayKill(t *testing.T) {
	const scenario = "gateway-kill"
	var (
		conns       = pick(400, 5000)
		perChannel  = pick(4, 10)
		rate        = pick(100.0, 500.0)
		workers     = pick(4, 16)
		before      = pick(3*time.Second, 15*time.Second)
		after       = pick(3*time.Second, 15*time.Second)
		stormBound  = pick(30*time.Second, 90*time.Second)
		delivered   = pick(20*time.Second, 60*time.Second)
		sampleEvery = pick(250*time.Millisecond, 500*time.Millisecond)
	)
	top := chaosTopology(t)
	app := newApp(t, top, "chaos-kill", nil)
	names := channelNames("kill", conns/perChannel)

	f := fleet.New(fleet.Config{
		Key: app.Key, Event: tickEvent,
		URL:     func(int, int) string { return top.URL() },
		Channel: func(i int) string { return names[i%len(names)] },
	})
	t.Cleanup(f.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout+stormBound)
	defer cancel()
	connectStart := time.Now()
	if err := f.Start(ctx, conns, dialConcurrency); err != nil {
		t.Fatal(err)
	}
	figures(t, scenario, "%d subscribers on %d channels connected through the balancer in %s (load %s)",
		conns, len(names), time.Since(connectStart).Round(time.Millisecond), load())

	acks := fleet.NewAcks()
	pub, err := fleet.StartPublisher(fleet.PublisherConfig{
		URL: top.URL(), AppID: app.ID, Key: app.Key, Secret: app.Secret,
		Channels: names, Event: tickEvent, Rate: rate, Workers: workers,
	}, acks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Stop)
	time.Sleep(before)

	survivor := startSampler(top, topology.RoleGateway, 1, sampleEvery)
	idle := stats(t, top, topology.RoleGateway, 1)
	killed := time.Now()
	if err := top.Kill(ctx, topology.RoleGateway, 0); err != nil {
		t.Fatal(err)
	}
	// All back: every subscriber subscribed again (on gateway 1).
	testinfra.WaitUntilWithin(t, "every subscriber back", stormBound, func() bool { return f.Connected() == conns })
	allBack := time.Since(killed)
	broke := f.Closes()[0]
	time.Sleep(after)
	pub.Stop()
	storm := survivor.finish()

	published := acks.Count()
	nerr, kinds := pub.Errors()
	testinfra.WaitUntilWithin(t, "every acknowledged message delivered", delivered, func() bool {
		return f.Check(acks).Missing == 0
	})
	f.Stop()
	report := f.Check(acks)

	rec := f.Reconnects()
	cpu, rss := peak(storm)
	figures(t, scenario, "%.0f msgs/s target: %d published and acknowledged, %d publish errors %v", rate, published, nerr, kinds)
	figures(t, scenario, "gateway 0 killed: %d connections broke, all %d subscribers back after %s; reconnects %s",
		broke, conns, allBack.Round(time.Millisecond), rec.Summary())
	figures(t, scenario, "reconnect histogram %s", rec.HistogramString(reconnectBounds))
	figures(t, scenario, "of which to connection_established: %s", f.Handshakes().Summary())
	figures(t, scenario, "failed reconnect attempts %v", f.DialErrors())
	figures(t, scenario, "surviving gateway: before the kill RSS %s, %d goroutines, %d fds; during the storm peak CPU %.0f%% of a core, peak RSS %s",
		mib(idle.RSS), idle.Goroutines, idle.FDs, cpu, mib(rss))
	for _, s := range storm {
		figures(t, scenario, "survivor t=%s cpu=%.0f%% rss=%s goroutines=%d fds=%d", s.at.Round(time.Millisecond), s.cpuPct, mib(s.RSS), s.Goroutines, s.FDs)
	}
	figures(t, scenario, "delivery: %s (load %s)", report, load())

	if err := report.Err(); err != nil {
		t.Fatal(err)
	}
	if broke == 0 {
		t.Fatal("no connection broke: gateway 0 had no subscribers")
	}
	if published == 0 {
		t.Fatal("nothing was published")
	}
}

// reconnectBounds are the buckets of the reconnect histograms.
var reconnectBounds = []time.Duration{
	10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
}
