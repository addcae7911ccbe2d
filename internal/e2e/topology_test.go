package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/topology"
)

// Timings of the topology tests.
const (
	// trafficBefore and trafficAfter are how long clients publish before
	// and after a disruption.
	trafficBefore = time.Second
	trafficAfter  = 2 * time.Second
	// deliveredWithin bounds the wait for the last deliveries.
	deliveredWithin = 15 * time.Second
	// publishEvery is each publisher's pause between publishes.
	publishEvery = 20 * time.Millisecond
)

// The production topology on this machine (3 NATS nodes, PostgreSQL, 2
// control planes, 2 gateways behind HAProxy): subscribers and publishers
// use only the balancer's URL, publishing with pusher-http-go. One
// gateway is restarted (SIGTERM: /readyz 503, its clients closed with
// 4200 over --shutdown-spread, then started again): its subscribers
// reconnect through the balancer, land on the other gateway and resume
// after their last serial, and no acknowledged message is lost or
// delivered twice.
func TestTopologyRollingRestart(t *testing.T) {
	top := testenv.Topology(t)
	app := newTopologyApp(t, top, "rolling")
	tr := startTraffic(t, top, app, trafficOptions{
		channels: []string{"room-a", "room-b"}, subscribers: 4, publishers: 1, publishEvery: publishEvery,
	})
	time.Sleep(trafficBefore)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout)
	defer cancel()
	restarted := time.Now()
	if err := top.Restart(ctx, topology.RoleGateway, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway 0 restarted in %s", time.Since(restarted).Round(time.Millisecond))
	time.Sleep(trafficAfter)
	tr.stopPublishing()
	tr.logErrors("rolling restart")
	tr.waitDelivered(deliveredWithin)

	if tr.closed(4200) == 0 {
		t.Fatal("no subscriber was closed with 4200: the restart drained nobody")
	}
	p99, n := tr.reconnectP99()
	t.Logf("published %d (errors %d), %d closed with 4200, %d reconnects, reconnect p99 %s",
		tr.published.Load(), tr.publishErrors.Load(), tr.closed(4200), n, p99.Round(time.Millisecond))
	if n < tr.closed(4200) {
		t.Fatalf("%d reconnects for %d closes", n, tr.closed(4200))
	}
}
