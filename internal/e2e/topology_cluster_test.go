//go:build herald_cluster

package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// The long run on the production topology (`make cluster-test`, build tag
// herald_cluster; not in `make test`).

// Timings of the long run; HERALD_CLUSTER_PG_OUTAGE (a Go duration)
// changes how long PostgreSQL stays down.
const (
	defaultPGOutage = 60 * time.Second
	// electionWindow is how long after a NATS node is killed publish
	// errors are counted as the election's.
	electionWindow = 5 * time.Second
	// catchUpWithin bounds how long history and usage take to catch up
	// once PostgreSQL is back.
	catchUpWithin = 60 * time.Second
	// clusterDelivered bounds the wait for the last deliveries.
	clusterDelivered = 30 * time.Second
	// messageStream is the JetStream stream of every message.
	messageStream = "HERALD_MSG"
)

// With subscribers and publishers running through the balancer: a
// rolling restart of both gateways, a NATS node killed and brought back,
// PostgreSQL stopped for a minute (publishes and deliveries go on, admin
// writes answer 503, history and usage catch up after). No acknowledged
// message is lost or duplicated; the figures are logged.
func TestTopologyCluster(t *testing.T) {
	outage := defaultPGOutage
	if s := os.Getenv("HERALD_CLUSTER_PG_OUTAGE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("HERALD_CLUSTER_PG_OUTAGE: %v", err)
		}
		outage = d
	}
	top := testenv.Topology(t)
	app := newTopologyApp(t, top, "cluster")
	channels := []string{"room-a", "room-b", "room-c"}
	tr := startTraffic(t, top, app, trafficOptions{
		channels: channels, subscribers: 5, publishers: 1, publishEvery: publishEvery,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	time.Sleep(trafficBefore)

	// Rolling restart: one gateway after the other, each back in the
	// balancer before the next goes.
	for i := range top.Count(topology.RoleGateway) {
		began := time.Now()
		if err := top.Restart(ctx, topology.RoleGateway, i); err != nil {
			t.Fatal(err)
		}
		t.Logf("gateway %d restarted in %s", i, time.Since(began).Round(time.Millisecond))
		time.Sleep(trafficBefore)
	}
	if tr.closed(4200) == 0 {
		t.Fatal("the rolling restart closed nobody with 4200")
	}
	tr.logErrors("rolling restart")

	// The node leading the message stream dies (SIGKILL): the others
	// elect a new leader; then it comes back.
	leader, err := top.StreamLeader(messageStream)
	if err != nil {
		t.Fatal(err)
	}
	errsBefore := tr.publishErrors.Load()
	if err := top.Kill(ctx, topology.RoleNATS, leader); err != nil {
		t.Fatal(err)
	}
	time.Sleep(electionWindow)
	electionErrors := tr.publishErrors.Load() - errsBefore
	tr.logErrors("NATS node killed")
	began := time.Now()
	if err := top.Start(ctx, topology.RoleNATS, leader); err != nil {
		t.Fatal(err)
	}
	t.Logf("nats %d (the %s leader) back and current in %s; publish errors in the %s after the kill: %d",
		leader, messageStream, time.Since(began).Round(time.Millisecond), electionWindow, electionErrors)
	time.Sleep(trafficBefore)
	tr.logErrors("NATS node back")

	// PostgreSQL stops: publishes and deliveries continue, admin writes
	// answer 503.
	errsBefore, publishedBefore := tr.publishErrors.Load(), tr.published.Load()
	if err := top.Stop(ctx, topology.RolePostgres, 0); err != nil {
		t.Fatal(err)
	}
	outageEnds := time.Now().Add(outage)
	code, body := topologyAdminPost(t, top, "/admin/v1/accounts", `{"name":"during-outage"}`)
	if code != http.StatusServiceUnavailable {
		t.Errorf("admin write with PostgreSQL down = %d %s, want 503", code, body)
	}
	t.Logf("admin write with PostgreSQL down: %d %s", code, body)
	time.Sleep(time.Until(outageEnds))
	outagePublished, outageErrors := tr.published.Load()-publishedBefore, tr.publishErrors.Load()-errsBefore
	if outagePublished == 0 {
		t.Error("no publish succeeded while PostgreSQL was down")
	}
	tr.logErrors("PostgreSQL down")
	if err := top.Start(ctx, topology.RolePostgres, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL down %s: %d published, %d publish errors", outage, outagePublished, outageErrors)
	testinfra.WaitUntilWithin(t, "admin writes again", catchUpWithin, func() bool {
		code, _ := topologyAdminPost(t, top, "/admin/v1/accounts", `{"name":"after-outage"}`)
		return code == http.StatusCreated
	})
	time.Sleep(trafficBefore)

	tr.stopPublishing()
	tr.logErrors("PostgreSQL back")
	tr.waitDelivered(clusterDelivered)

	// History: every control plane's writer stored through the last
	// serial. Usage: every acknowledged publish counted.
	var last uint64
	for _, ch := range channels {
		last = max(last, tr.serials.LastAcked(ch))
	}
	testinfra.WaitUntilWithin(t, "history stored through the last serial", catchUpWithin, func() bool {
		return topologyStoredThrough(t, top) >= last
	})
	testinfra.WaitUntilWithin(t, "usage counts every publish", catchUpWithin, func() bool {
		return topologyUsagePublished(t, top, app.ID) >= tr.published.Load()
	})

	p99, n := tr.reconnectP99()
	t.Logf("FIGURES: published %d, publish errors %d (NATS election %d, PostgreSQL outage %d); "+
		"%d closed with 4200, %d reconnects, reconnect p99 %s; serials gap-free, no duplicates",
		tr.published.Load(), tr.publishErrors.Load(), electionErrors, outageErrors,
		tr.closed(4200), n, p99.Round(time.Millisecond))
}

// topologyAdminPost sends an admin write through the balancer.
func topologyAdminPost(t *testing.T, top *topology.Topology, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, top.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+top.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	code, b := testenv.Do(t, http.DefaultClient, req)
	return code, string(b)
}

var storedThroughLine = regexp.MustCompile(`(?m)^herald_history_stored_through_serial\{[^}]*\} (\S+)$`)

// topologyStoredThrough is the highest history watermark the control planes
// report.
func topologyStoredThrough(t *testing.T, top *topology.Topology) uint64 {
	t.Helper()
	var best uint64
	for i := range top.Count(topology.RoleControlPlane) {
		u, err := top.ServerURL(topology.RoleControlPlane, i)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if m := storedThroughLine.FindSubmatch(b); m != nil {
			f, _ := strconv.ParseFloat(string(m[1]), 64)
			best = max(best, uint64(f))
		}
	}
	return best
}

// topologyUsagePublished is the app's messages_published of the last day.
func topologyUsagePublished(t *testing.T, top *topology.Topology, appID string) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, top.URL()+"/admin/v1/apps/"+appID+"/usage", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+top.AdminToken())
	code, b := testenv.Do(t, http.DefaultClient, req)
	if code != http.StatusOK {
		return -1
	}
	var u struct {
		Totals struct {
			MessagesPublished int64 `json:"messages_published"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatalf("usage %s: %v", b, err)
	}
	return u.Totals.MessagesPublished
}
