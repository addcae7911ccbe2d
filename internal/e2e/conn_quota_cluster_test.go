package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// countsDeadline bounds how long a gateway takes to learn another's
// counts (the report interval is short in tests; this leaves room for a
// loaded machine).
const countsDeadline = 10 * time.Second

// Series that tell when a gateway's counts have settled.
const (
	localConnsSeries  = "herald_gateway_connections"
	remoteConnsSeries = "herald_conncount_remote_connections"
)

// TestMaxConnectionsIsClusterWide: an app's max_connections counts its
// connections on every gateway, not on each one, and a connection closed
// on one gateway frees a place on the others.
func TestMaxConnectionsIsClusterWide(t *testing.T) {
	cl := newClusterEnv(t)
	ga, gb := cl.gateway(t, "gw-a"), cl.gateway(t, "gw-b")
	key, _ := newApp(t, cl.cp, "quota", map[string]any{"max_connections": 3})
	waitKey(t, []testenv.Node{ga, gb}, key)
	// waitKey's probes are gone before the counting starts.
	waitSeries(t, ga, localConnsSeries, "0")
	waitSeries(t, gb, localConnsSeries, "0")

	a1 := testenv.MustDialPusher(t, ga.URL(), key)
	testenv.MustDialPusher(t, ga.URL(), key)
	waitSeries(t, gb, remoteConnsSeries, "2")

	testenv.MustDialPusher(t, gb.URL(), key)
	expectOverQuota(t, gb, key)
	res, err := http.Get(gb.URL() + "/sse?key=" + key + "&channel=quota-news")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("SSE over the cluster-wide quota = %d, want 429", res.StatusCode)
	}

	// Gateway A counts B's connection too.
	waitSeries(t, ga, remoteConnsSeries, "1")
	expectOverQuota(t, ga, key)

	// A closed connection on A makes room on B.
	if err := a1.WS().Close(); err != nil {
		t.Fatal(err)
	}
	waitSeries(t, gb, remoteConnsSeries, "1")
	testenv.MustDialPusher(t, gb.URL(), key)
	expectOverQuota(t, gb, key)
}

// expectOverQuota dials g and expects the refusal with Pusher error 4004.
func expectOverQuota(t *testing.T, g *testenv.HeraldEnv, key string) {
	t.Helper()
	_, err := testenv.DialPusher(t, g.URL(), key, "", nil)
	if err == nil || !strings.Contains(err.Error(), "pusher:error 4004") {
		t.Fatalf("connection over the cluster-wide quota: err = %v, want pusher:error 4004", err)
	}
}

// waitSeries waits until g's /metrics shows series at value.
func waitSeries(t *testing.T, g *testenv.HeraldEnv, series, value string) {
	t.Helper()
	testinfra.WaitUntilWithin(t, series+" = "+value+" on "+g.URL(), countsDeadline, func() bool {
		return metricSeriesValue(t, g, series) == value
	})
}
