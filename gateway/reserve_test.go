package gateway

import (
	"hash/maphash"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
)

// limits is an AppSource of apps that have only a max_connections.
type limits map[string]int

func (l limits) App(id string) (*channels.AppConfig, bool) {
	max, ok := l[id]
	if !ok {
		return nil, false
	}
	return &channels.AppConfig{ID: id, Settings: channels.Settings{MaxConnections: max}}, true
}

func (l limits) ByKey(string) (*channels.AppConfig, bool) { return nil, false }

// fakeCluster reports fixed remote counts and counts its lookups.
type fakeCluster struct {
	remote map[string]int
	calls  int
}

func (f *fakeCluster) Remote(appID string) int {
	f.calls++
	return f.remote[appID]
}

func newConnTableGateway(cc ClusterConns, apps limits) *Gateway {
	g := &Gateway{cfg: Config{ClusterConns: cc, Apps: apps}, connSeed: maphash.MakeSeed()}
	g.initConnTable()
	return g
}

func TestReserveCountsOtherGateways(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		max, remote    int
		local          int // reserved before the checked attempt
		want           bool
		wantLookups    bool
		noClusterConns bool
	}{
		{name: "no limit never asks", max: 0, remote: 100, local: 5, want: true},
		{name: "under the limit", max: 3, remote: 1, local: 1, want: true, wantLookups: true},
		{name: "local plus remote at the limit", max: 3, remote: 2, local: 1, want: false, wantLookups: true},
		{name: "remote alone at the limit", max: 3, remote: 3, want: false, wantLookups: true},
		{name: "remote over the limit", max: 3, remote: 7, want: false, wantLookups: true},
		{name: "local alone at the limit", max: 2, local: 2, want: false, wantLookups: true},
		{name: "without cluster counts, local only", max: 3, remote: 2, local: 1, want: true, noClusterConns: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCluster{}
			var cc ClusterConns = fc
			if tc.noClusterConns {
				cc = nil
			}
			g := newConnTableGateway(cc, limits{"app": tc.max})
			for range tc.local {
				if !g.reserve("app", 0) {
					t.Fatal("reserve without a limit refused")
				}
			}
			fc.remote = map[string]int{"app": tc.remote}
			fc.calls = 0
			if got := g.reserve("app", tc.max); got != tc.want {
				t.Fatalf("reserve = %v, want %v", got, tc.want)
			}
			if (fc.calls > 0) != tc.wantLookups {
				t.Fatalf("Remote called %d times", fc.calls)
			}
			want := tc.local
			if tc.want {
				want++
			}
			if tc.max == 0 {
				want = 0 // an unlimited app is not reported
			}
			if got := g.ConnCounts()["app"]; got != want {
				t.Fatalf("ConnCounts = %d, want %d", got, want)
			}
		})
	}
}

// TestConnCountsFollowReleases: counts follow reserve and release, and
// only apps with a limit (still configured) are reported.
func TestConnCountsFollowReleases(t *testing.T) {
	t.Parallel()
	g := newConnTableGateway(nil, limits{"a": 10, "b": 10, "free": 0})
	for _, id := range []string{"a", "a", "b", "free", "gone"} {
		g.reserve(id, 0)
	}
	g.release("a")
	g.release("b")
	got := g.ConnCounts()
	if len(got) != 1 || got["a"] != 1 {
		t.Fatalf("ConnCounts = %v, want map[a:1]", got)
	}
	// Metering needs every app's count for peak_connections.
	g.cfg.Meter = billing.NewMeter(nil)
	if got := g.ConnCounts(); len(got) != 3 || got["a"] != 1 || got["free"] != 1 || got["gone"] != 1 {
		t.Fatalf("ConnCounts with metering = %v, want map[a:1 free:1 gone:1]", got)
	}
}
