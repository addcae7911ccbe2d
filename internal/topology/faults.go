package topology

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/internal/faultproxy"
)

// Fault injection for chaos tests: each gateway's and control plane's
// NATS connection can go through proxies of its own (Options.NATSProxies),
// which cut, refuse or slow it; the JetStream store can be capped
// (Options.NATSMaxFileStore) to see it fill.

// startNATSProxies starts, when asked, one proxy per NATS node for every
// herald process, keyed by role and index.
func (t *Topology) startNATSProxies() error {
	if !t.opts.NATSProxies {
		return nil
	}
	t.natsProxies = map[Role][]faultproxy.Group{}
	for _, role := range []Role{RoleControlPlane, RoleGateway} {
		n := t.opts.ControlPlanes
		if role == RoleGateway {
			n = t.opts.Gateways
		}
		for range n {
			var g faultproxy.Group
			for _, node := range t.nats {
				p, err := faultproxy.New(faultproxy.Config{
					Listen: hostPort(t.opts.Host, 0), Target: hostPort(t.opts.Host, node.client),
				})
				if err != nil {
					return fmt.Errorf("topology: nats proxy: %w", err)
				}
				g = append(g, p)
			}
			t.natsProxies[role] = append(t.natsProxies[role], g)
		}
	}
	return nil
}

// heraldNATSURL is the --nats-url of herald process role i: its proxies
// when there are, else every node directly.
func (t *Topology) heraldNATSURL(role Role, i int) string {
	gs := t.natsProxies[role]
	if i >= len(gs) {
		return t.NATSURL()
	}
	urls := make([]string, len(gs[i]))
	for j, p := range gs[i] {
		urls[j] = "nats://" + p.Addr()
	}
	return strings.Join(urls, ",")
}

// NATSProxies is the group of proxies between herald process role i and
// the NATS nodes; ErrNoProcess without Options.NATSProxies.
func (t *Topology) NATSProxies(role Role, i int) (faultproxy.Group, error) {
	gs := t.natsProxies[role]
	if i < 0 || i >= len(gs) {
		return nil, fmt.Errorf("nats proxies of %s %d: %w", role, i, ErrNoProcess)
	}
	return gs[i], nil
}

// closeNATSProxies stops every proxy.
func (t *Topology) closeNATSProxies() error {
	var errs []error
	for _, gs := range t.natsProxies {
		for _, g := range gs {
			for _, p := range g {
				if err := p.Close(); err != nil && !errors.Is(err, faultproxy.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// natsJetStreamLimits are the jetstream block's extra lines.
func (t *Topology) natsJetStreamLimits() string {
	if t.opts.NATSMaxFileStore <= 0 {
		return ""
	}
	return "  max_file_store: " + strconv.FormatInt(t.opts.NATSMaxFileStore, 10) + "\n"
}

// natsClusterExtra are the cluster block's extra lines: behind proxies,
// the nodes must not advertise their own client URLs, or herald's NATS
// clients would learn them and reconnect around the proxies.
func (t *Topology) natsClusterExtra() string {
	if !t.opts.NATSProxies {
		return ""
	}
	return "  no_advertise: true\n"
}

// SetNATSMaxFileStore raises every NATS node's JetStream file store cap
// to n bytes and has the running nodes reload their configuration
// (SIGHUP), as an operator adds disk; a node started later reads the
// new cap. NATS takes a larger cap on reload, not a smaller one.
func (t *Topology) SetNATSMaxFileStore(n int64) error {
	t.opts.NATSMaxFileStore = n
	for i, p := range t.procs[RoleNATS] {
		if _, err := t.natsConfig(i); err != nil {
			return fmt.Errorf("topology: nats config: %w", err)
		}
		if pid := p.pid(); pid != 0 {
			if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
				return fmt.Errorf("topology: reload %s: %w", p.name, err)
			}
		}
	}
	return nil
}

// NATSMonitorURL is node i's monitoring URL (/jsz, /varz).
func (t *Topology) NATSMonitorURL(i int) (string, error) {
	if i < 0 || i >= len(t.nats) {
		return "", fmt.Errorf("%s %d: %w", RoleNATS, i, ErrNoProcess)
	}
	return "http://" + net.JoinHostPort(t.opts.Host, strconv.Itoa(t.nats[i].monitor)), nil
}
