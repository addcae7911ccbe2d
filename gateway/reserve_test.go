package gateway

import (
	"hash/maphash"
	"testing"
)

// fakeCluster reports fixed remote counts and counts its lookups.
type fakeCluster struct {
	remote map[string]int
	calls  int
}

func (f *fakeCluster) Remote(appID string) int {
	f.calls++
	return f.remote[appID]
}

func newConnTableGateway(cc ClusterConns) *Gateway {
	g := &Gateway{cfg: Config{ClusterConns: cc}, connSeed: maphash.MakeSeed()}
	for i := range g.conns {
		g.conns[i].byApp = map[string]map[*conn]struct{}{}
		g.conns[i].count = map[string]int{}
	}
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
			g := newConnTableGateway(cc)
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
			if got := g.ConnCounts()["app"]; got != want {
				t.Fatalf("ConnCounts = %d, want %d", got, want)
			}
		})
	}
}

func TestConnCountsFollowReleases(t *testing.T) {
	t.Parallel()
	g := newConnTableGateway(nil)
	g.reserve("a", 0)
	g.reserve("a", 0)
	g.reserve("b", 0)
	g.release("a")
	g.release("b")
	got := g.ConnCounts()
	if len(got) != 1 || got["a"] != 1 {
		t.Fatalf("ConnCounts = %v, want map[a:1]", got)
	}
}
