package topology

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
)

// TestNATSConfigFaultOptions: the file store cap and, behind proxies,
// no_advertise reach each node's configuration, which nats-server's
// parser reads; without them neither is there. A topology of one node
// (NATSNodes 1) has no cluster block: JetStream standalone.
func TestNATSConfigFaultOptions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		store      any
		advertise  bool
		standalone bool
	}{
		{"defaults", Options{}, nil, true, false},
		{"faults", Options{NATSProxies: true, NATSMaxFileStore: 4 << 20}, int64(4 << 20), false, false},
		{"standalone", Options{NATSNodes: 1}, nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Host = "127.0.0.1"
			top := &Topology{opts: tc.opts, nats: []natsNode{{client: 4222, cluster: 6222, monitor: 8222, dir: t.TempDir()}}}
			path, err := top.natsConfig(0)
			if err != nil {
				t.Fatal(err)
			}
			m, err := conf.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			js := m["jetstream"].(map[string]any)
			if got := js["max_file_store"]; got != tc.store {
				t.Errorf("max_file_store = %v, want %v", got, tc.store)
			}
			cluster, clustered := m["cluster"].(map[string]any)
			if clustered == tc.standalone {
				t.Fatalf("cluster block %v, want one: %v", m["cluster"], !tc.standalone)
			}
			if _, set := cluster["no_advertise"]; set == tc.advertise && clustered {
				t.Errorf("no_advertise set = %v, want %v", set, !tc.advertise)
			}
		})
	}
}

// TestHeraldNATSURLThroughProxies: with NATSProxies every herald process
// gets proxies of its own, one per node, and its --nats-url names them;
// without, it names the nodes.
func TestHeraldNATSURLThroughProxies(t *testing.T) {
	nodes := []natsNode{{client: 4222}, {client: 4223}}
	direct := &Topology{opts: Options{Host: "127.0.0.1", ControlPlanes: 1, Gateways: 2}, nats: nodes}
	if err := direct.startNATSProxies(); err != nil {
		t.Fatal(err)
	}
	if got := direct.heraldNATSURL(RoleGateway, 1); got != direct.NATSURL() {
		t.Errorf("without proxies: %s, want %s", got, direct.NATSURL())
	}
	if _, err := direct.NATSProxies(RoleGateway, 0); !errors.Is(err, ErrNoProcess) {
		t.Errorf("NATSProxies without proxies: %v, want ErrNoProcess", err)
	}

	top := &Topology{opts: Options{Host: "127.0.0.1", ControlPlanes: 1, Gateways: 2, NATSProxies: true}, nats: nodes}
	if err := top.startNATSProxies(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := top.closeNATSProxies(); err != nil {
			t.Error(err)
		}
	})
	seen := map[string]bool{}
	for _, p := range []struct {
		role Role
		i    int
	}{{RoleControlPlane, 0}, {RoleGateway, 0}, {RoleGateway, 1}} {
		g, err := top.NATSProxies(p.role, p.i)
		if err != nil {
			t.Fatal(err)
		}
		url := top.heraldNATSURL(p.role, p.i)
		if len(g) != len(nodes) || strings.Count(url, "nats://") != len(nodes) {
			t.Fatalf("%s %d: %d proxies, --nats-url %s", p.role, p.i, len(g), url)
		}
		for j, proxy := range g {
			if !strings.Contains(url, proxy.Addr()) || seen[proxy.Addr()] || proxy.Target() != hostPort("127.0.0.1", nodes[j].client) {
				t.Errorf("%s %d: proxy %s to %s in %s", p.role, p.i, proxy.Addr(), proxy.Target(), url)
			}
			seen[proxy.Addr()] = true
		}
	}
}
