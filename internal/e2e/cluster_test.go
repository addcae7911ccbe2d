package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// memberGoneDeadline is how soon a dead gateway's members must be gone
// from the others (the issue asks for 30 s; the test shortens the TTLs).
const memberGoneDeadline = 30 * time.Second

// nodeLossDeadline bounds how long publishing may fail after a NATS node
// goes away: the stream elects a new leader meanwhile.
const nodeLossDeadline = 20 * time.Second

// clusterHerald runs a control plane and two gateways as separate
// processes would, on a 3-node NATS cluster with R3 streams and buckets.
func clusterHerald(t *testing.T) (cp, g1, g2 *testenv.HeraldEnv, nats *testinfra.Cluster) {
	t.Helper()
	cl := newClusterEnv(t)
	g1, g2 = cl.gateway(t, "gw-one"), cl.gateway(t, "gw-two")
	return cl.cp, g1, g2, cl.nats
}

// clusterEnv is a control plane on a 3-node NATS cluster (R3 streams and
// buckets), to which tests add gateways as separate processes would be.
type clusterEnv struct {
	nats *testinfra.Cluster
	base platform.Config
	cp   *testenv.HeraldEnv
}

// newClusterEnv starts the NATS cluster and the control plane; modify, if
// given, adjusts the config every process of the cluster starts with.
func newClusterEnv(t *testing.T, modify ...func(*platform.Config)) *clusterEnv {
	t.Helper()
	nats := testinfra.NATSCluster(t, 3)
	base := platform.Config{
		Addr: "127.0.0.1:0", NATSURL: nats.ClientURLs(), NATSReplicas: 3, MasterKey: secretbox.GenerateKey(),
		ConfigSyncInterval: time.Second, ShutdownTimeout: 5 * time.Second, Logger: testinfra.Logger(t),
		Gateway: platform.GatewayConfig{
			ShutdownSpread: 100 * time.Millisecond, KeepaliveInterval: 100 * time.Millisecond,
			MemberTTL: 20 * time.Second, GatewayTTL: 3 * time.Second, HeartbeatInterval: time.Second,
			ConnCountInterval: 100 * time.Millisecond,
		},
	}
	for _, m := range modify {
		m(&base)
	}
	c := base
	c.Mode, c.DatabaseURL, c.AdminToken = platform.ModeControlPlane, testinfra.Postgres(t), "cluster-admin-token"
	return &clusterEnv{nats: nats, base: base, cp: testenv.StartHerald(t, c)}
}

// gateway starts a gateway process on the cluster, stopped at t's cleanup.
func (c *clusterEnv) gateway(t *testing.T, id string) *testenv.HeraldEnv {
	t.Helper()
	g := c.base
	g.Mode, g.GatewayID = platform.ModeGateway, id
	return testenv.StartHerald(t, g)
}

func TestGatewaysShareChannelsPresenceAndClientEvents(t *testing.T) {
	cp, g1, g2, nats := clusterHerald(t)
	key, secret := newAppOn(t, cp, []testenv.Node{g1, g2}, "multi")

	a := testenv.MustDialPusher(t, g1.URL(), key)
	b := testenv.MustDialPusher(t, g2.URL(), key)
	ch := "presence-lobby"
	a.Subscribe(ch, key, secret, `{"user_id":"ann"}`)
	e := b.Subscribe(ch, key, secret, `{"user_id":"ben"}`)
	if !strings.Contains(e.Data, `"ann"`) {
		t.Fatalf("ben's roster lacks ann (from the other gateway): %s", e.Data)
	}
	if added, _ := a.Expect("pusher_internal:member_added", ch); !strings.Contains(added.Data, `"ben"`) {
		t.Fatalf("member_added across gateways = %+v", added)
	}

	exchange := func(round string) {
		t.Helper()
		b.Send("client-wave", ch, map[string]any{"round": round})
		b.Send("pusher:ping", "", map[string]any{})
		if _, skipped := b.Expect("pusher:pong", ""); len(skipped) > 0 {
			t.Fatalf("the sender got %+v", skipped)
		}
		if got, _ := a.Expect("client-wave", ch); !strings.Contains(got.Data, round) || got.UserID != "ben" {
			t.Fatalf("client event across gateways = %+v", got)
		}
		testenv.Trigger(t, cp.URL(), "multi", key, secret, "news", round, ch)
		for _, p := range []*testenv.PusherClient{a, b} {
			if got, _ := p.Expect("news", ch); got.Data != round {
				t.Fatalf("REST event = %+v", got)
			}
		}
	}
	exchange("all nodes up")

	// One NATS node goes away: R3 streams and buckets keep working.
	nats.Shutdown(nats.StreamLeader("HERALD_MSG"))
	testinfra.WaitUntilWithin(t, "publishing to recover after a node loss", nodeLossDeadline, func() bool {
		code, _ := testenv.SignedRequest(t, "POST", cp.URL(), "/apps/multi/events", key, secret, nil,
			[]byte(`{"name":"probe","data":"p","channels":["probe"]}`))
		return code == 200
	})
	exchange("one node down")
}

func TestDeadGatewayMembersAreRemoved(t *testing.T) {
	cp, g1, g2, _ := clusterHerald(t)
	key, secret := newAppOn(t, cp, []testenv.Node{g1, g2}, "crash")
	a := testenv.MustDialPusher(t, g1.URL(), key)
	b := testenv.MustDialPusher(t, g2.URL(), key)
	ch := "presence-crash"
	a.Subscribe(ch, key, secret, `{"user_id":"survivor"}`)
	b.Subscribe(ch, key, secret, `{"user_id":"victim"}`)
	a.Expect("pusher_internal:member_added", ch)

	start := time.Now()
	g2.Kill() // no cleanup reaches NATS
	removed, _ := a.Expect("pusher_internal:member_removed", ch)
	if !strings.Contains(removed.Data, `"victim"`) {
		t.Fatalf("member_removed = %+v", removed)
	}
	took := time.Since(start)
	t.Logf("dead gateway's member removed after %s", took)
	if took > memberGoneDeadline {
		t.Fatalf("took %s", took)
	}
}

// newAppOn creates an app through cp's admin API and waits until every
// gateway accepts its key.
func newAppOn(t *testing.T, cp testenv.Node, gws []testenv.Node, id string) (key, secret string) {
	t.Helper()
	key, secret = newApp(t, cp, id, map[string]any{"client_events": true})
	waitKey(t, gws, key)
	return key, secret
}

// waitKey waits until every gateway accepts key.
func waitKey(t *testing.T, gws []testenv.Node, key string) {
	t.Helper()
	for _, g := range gws {
		testinfra.WaitUntilWithin(t, "gateway "+g.URL()+" to know the key", appChangeDeadline, func() bool {
			p, err := testenv.DialPusher(t, g.URL(), key, "", nil)
			if err != nil {
				return false
			}
			p.WS().Close()
			return true
		})
	}
}
