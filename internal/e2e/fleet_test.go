package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/topology"
)

// The fleet run of TestFleetBench: what deploy/scale does at 100,000
// connections, in miniature.
const (
	fleetSubscribers = 200
	fleetWorkers     = 2
	fleetRate        = 5
	fleetDuration    = 3 * time.Second
)

// TestFleetBench runs `herald bench --workers` the way deploy/scale
// does: gateways without a balancer on one NATS node, worker processes
// spreading the subscribers over every gateway from 127.0.0.x source
// addresses, the parent publishing and merging. Every delivery owed to
// every worker's subscribers must arrive exactly once, and each gateway
// must have held its share.
func TestFleetBench(t *testing.T) {
	top := testenv.Topology(t, func(o *topology.Options) {
		o.NATSNodes, o.ControlPlanes, o.Gateways, o.NoBalancer = 1, 1, 2, true
		o.GatewayArgs = []string{"--conn-rate-per-app", "-1"}
	})
	app := newTopologyApp(t, top, "fleet")
	var gateways []string
	for i := range top.Count(topology.RoleGateway) {
		u, err := top.ServerURL(topology.RoleGateway, i)
		if err != nil {
			t.Fatal(err)
		}
		gateways = append(gateways, u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, top.HeraldBin(), "bench", "--json",
		"--url", top.URL(), "--ws-urls", strings.Join(gateways, ","), "--src", "127.0.0.2-127.0.0.5",
		"--app-id", app.ID, "--key", app.Key, "--secret", app.Secret,
		"--subscribers", strconv.Itoa(fleetSubscribers), "--channels", "1", "--workers", strconv.Itoa(fleetWorkers),
		"--rate", strconv.Itoa(fleetRate), "--duration", fleetDuration.String(), "--drain", "20s", "--publishers", "1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("herald bench: %v\n%s", err, stderr.String())
	}
	var (
		connected struct {
			Connected struct{ Open, Failed int } `json:"connected"`
			Workers   int                        `json:"workers"`
		}
		step struct {
			Published, Expected, Delivered, Lost, Duplicates int64
			Subscribers                                      int
			Latency                                          struct {
				Count uint64        `json:"count"`
				P50   time.Duration `json:"p50_ns"`
				P90   time.Duration `json:"p90_ns"`
				Max   time.Duration `json:"max_ns"`
			}
		}
	)
	sc := bufio.NewScanner(&stdout)
	for i := 0; sc.Scan(); i++ {
		var into any
		switch i {
		case 0:
			into = &connected
		case 1:
			into = &step
		default:
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), into); err != nil {
			t.Fatalf("line %d %q: %v", i, sc.Text(), err)
		}
	}
	if c := connected.Connected; c.Open != fleetSubscribers || c.Failed != 0 || connected.Workers != fleetWorkers {
		t.Fatalf("connected %+v; stderr:\n%s", connected, stderr.String())
	}
	want := int64(fleetRate * fleetDuration / time.Second)
	if step.Published != want || step.Expected != want*fleetSubscribers || step.Delivered != step.Expected ||
		step.Lost != 0 || step.Duplicates != 0 || step.Subscribers != fleetSubscribers {
		t.Fatalf("step %+v, want %d published to %d subscribers, all delivered once", step, want, fleetSubscribers)
	}
	if l := step.Latency; l.Count != uint64(step.Delivered) || l.P50 <= 0 || l.P90 < l.P50 || l.Max < l.P90 {
		t.Fatalf("latency %+v over %d deliveries", l, step.Delivered)
	}
	// Round robin: each gateway accepted its half (and the probe of
	// newTopologyApp).
	for i, u := range gateways {
		n := metricValue(t, u, "herald_gateway_connections_total")
		if n < float64(fleetSubscribers/len(gateways)) {
			t.Errorf("gateway %d accepted %v connections, want at least %d", i, n, fleetSubscribers/len(gateways))
		}
	}
}

// metricValue reads one unlabelled series of a server's /metrics; the
// test fails if it is absent.
func metricValue(t *testing.T, serverURL, series string) float64 {
	t.Helper()
	v := metricSeriesAt(t, serverURL, series)
	if v == "" {
		t.Fatalf("%s/metrics has no %s", serverURL, series)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		t.Fatalf("%s %q: %v", series, v, err)
	}
	return f
}
