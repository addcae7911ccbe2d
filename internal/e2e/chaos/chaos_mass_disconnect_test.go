package chaos

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Leftover bounds of the mass disconnect: what a gateway may keep above
// its baseline once the storm is over (goroutines and descriptors of
// housekeeping that comes and goes: NATS and HTTP keep-alives, a
// subscription being torn down), and how long it has to get there.
const (
	goroutineSlack = 30
	fdSlack        = 30
	settleWithin   = 30 * time.Second
	// rssGrowthBound: after the storm, with as many clients as before,
	// the RSS may exceed its pre-storm value by this factor (the Go heap
	// grows for the burst and returns memory to the OS lazily) — a bound
	// against a leak per reconnection, not a performance threshold.
	rssGrowthBound = 2
)

// Scenario 2 of docs/reliability.md: a mass disconnect. Subscribers
// connect straight to the two gateways (half each: the balancer, one
// process, would hold two descriptors per connection, and the fd limit
// here is 20,000), all connections are dropped at once client side (as
// when a network goes) and every client dials again at once and resumes.
// Invariants: every acknowledged message still reaches every subscriber
// exactly once; all clients are back within stormBound; each gateway's
// goroutines and descriptors return to their level before the storm,
// and to their idle baseline once every client has left.
func TestChaosMassDisconnect(t *testing.T) {
	const scenario = "mass-disconnect"
	var (
		conns       = pick(1000, 10000)
		perChannel  = pick(10, 20)
		rate        = pick(50.0, 200.0)
		workers     = pick(2, 8)
		stormBound  = pick(45*time.Second, 120*time.Second)
		delivered   = pick(20*time.Second, 60*time.Second)
		profileFor  = pick(time.Duration(0), 10*time.Second)
		sampleEvery = pick(250*time.Millisecond, 500*time.Millisecond)
	)
	top := chaosTopology(t)
	app := newApp(t, top, "chaos-mass", nil)
	names := channelNames("mass", conns/perChannel)
	gws := []string{serverURL(t, top, topology.RoleGateway, 0), serverURL(t, top, topology.RoleGateway, 1)}
	baseline := gatewayStats(t, top)

	f := fleet.New(fleet.Config{
		Key: app.Key, Event: tickEvent,
		URL:     func(i, _ int) string { return gws[i%len(gws)] },
		Channel: func(i int) string { return names[i%len(names)] },
	})
	t.Cleanup(f.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout+stormBound)
	defer cancel()
	connectStart := time.Now()
	if err := f.Start(ctx, conns, dialConcurrency); err != nil {
		t.Fatal(err)
	}
	figures(t, scenario, "%d subscribers on %d channels connected straight to 2 gateways in %s (load %s)",
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
	time.Sleep(2 * time.Second)
	steady := gatewayStats(t, top)

	samplers := []*sampler{
		startSampler(top, topology.RoleGateway, 0, sampleEvery),
		startSampler(top, topology.RoleGateway, 1, sampleEvery),
	}
	var profile string
	var profiled sync.WaitGroup
	if profileFor > 0 {
		profiled.Add(1)
		go func() {
			defer profiled.Done()
			profile = cpuProfile(ctx, t, top.PID(topology.RoleGateway, 0), profileFor)
		}()
	}

	dropped := time.Now()
	n := f.Drop()
	// A client that was not part of the fleet: how soon a gateway in the
	// storm serves a new connection.
	var firstServed time.Duration
	for {
		c, err := fleet.Dial(ctx, gws[0], app.Key)
		if err == nil {
			firstServed = time.Since(dropped)
			_ = c.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no new connection served: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	testinfra.WaitUntilWithin(t, "every subscriber back", stormBound, func() bool { return f.Connected() == conns })
	allBack := time.Since(dropped)
	time.Sleep(2 * time.Second)
	pub.Stop()
	var storm [][]sample
	for _, s := range samplers {
		storm = append(storm, s.finish())
	}
	after := gatewayStats(t, top)

	testinfra.WaitUntilWithin(t, "every acknowledged message delivered", delivered, func() bool {
		return f.Check(acks).Missing == 0
	})
	rec := f.Reconnects()
	f.Stop()
	report := f.Check(acks)
	var left []topology.ProcStats
	testinfra.WaitUntilWithin(t, "gateways back to their idle baseline", settleWithin, func() bool {
		left = gatewayStats(t, top)
		for i := range left {
			if left[i].Goroutines > baseline[i].Goroutines+goroutineSlack || left[i].FDs > baseline[i].FDs+fdSlack {
				return false
			}
		}
		return true
	})
	profiled.Wait()

	nerr, kinds := pub.Errors()
	figures(t, scenario, "%d connections dropped at once; a new client served after %s; all %d back after %s; reconnects %s",
		n, firstServed.Round(time.Millisecond), conns, allBack.Round(time.Millisecond), rec.Summary())
	figures(t, scenario, "reconnect histogram %s", rec.HistogramString(reconnectBounds))
	figures(t, scenario, "of which to connection_established: %s", f.Handshakes().Summary())
	figures(t, scenario, "failed reconnect attempts %v", f.DialErrors())
	figures(t, scenario, "%.0f msgs/s target: %d acknowledged, %d publish errors %v; delivery: %s", rate, acks.Count(), nerr, kinds, report)
	for i := range baseline {
		cpu, rss := peak(storm[i])
		figures(t, scenario, "gateway %d: idle %s; connected %s; storm peak CPU %.0f%% of a core, peak RSS %s; after the storm %s; all clients gone %s",
			i, statLine(baseline[i]), statLine(steady[i]), cpu, mib(rss), statLine(after[i]), statLine(left[i]))
		for _, s := range storm[i] {
			figures(t, scenario, "gateway %d t=%s cpu=%.0f%% rss=%s goroutines=%d fds=%d", i, s.at.Round(time.Millisecond), s.cpuPct, mib(s.RSS), s.Goroutines, s.FDs)
		}
	}
	if profile != "" {
		figures(t, scenario, "CPU profile of gateway 0 during the storm (perf, %s, top symbols):\n%s", profileFor, profile)
	}
	figures(t, scenario, "load %s", load())

	if err := report.Err(); err != nil {
		t.Fatal(err)
	}
	if n != conns {
		t.Fatalf("dropped %d connections of %d", n, conns)
	}
	for i := range steady {
		if after[i].Goroutines > steady[i].Goroutines+goroutineSlack {
			t.Errorf("gateway %d: %d goroutines after the storm, %d before it with as many clients", i, after[i].Goroutines, steady[i].Goroutines)
		}
		if after[i].RSS > rssGrowthBound*steady[i].RSS {
			t.Errorf("gateway %d: RSS %s after the storm, %s before it with as many clients", i, mib(after[i].RSS), mib(steady[i].RSS))
		}
	}
}

// gatewayStats reads both gateways' stats.
func gatewayStats(t *testing.T, top *topology.Topology) []topology.ProcStats {
	t.Helper()
	return []topology.ProcStats{stats(t, top, topology.RoleGateway, 0), stats(t, top, topology.RoleGateway, 1)}
}

// statLine prints a stats reading.
func statLine(s topology.ProcStats) string {
	return "RSS " + mib(s.RSS) + ", " + strconv.Itoa(s.Goroutines) + " goroutines, " + strconv.Itoa(s.FDs) + " fds"
}
