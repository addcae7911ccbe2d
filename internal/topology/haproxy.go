package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// haproxyConfig writes the balancer's configuration: the gateway paths
// (WebSockets, token WebSockets, SSE) to the gateways, everything else to
// the control planes; X-Forwarded-For added; each server health-checked
// on /readyz, so that a draining one (503) gets no new clients.
//
// A server is in rotation while its NATS check passes and it is not
// shutting down: a control plane whose PostgreSQL is down stays in, since
// publishes and deliveries need only NATS (admin writes answer 503
// themselves), and taking every control plane out would refuse publishes
// too.
func (t *Topology) haproxyConfig() (string, error) {
	o := t.opts
	var b strings.Builder
	// No global maxconn: HAProxy derives it from the file descriptor
	// limit, and asking for more than the limit allows stops it.
	fmt.Fprintf(&b, `defaults
  mode http
  option forwardfor
  option redispatch
  retries %d
  timeout connect %s
  timeout client %s
  timeout server %s
  timeout http-request %s
  # WebSockets and SSE streams: longer than any activity timeout.
  timeout tunnel %s
  timeout client-fin %s
  default-server inter %s fall %d rise %d

frontend herald
  bind %s
  acl gateway_path path_beg %s/app/ %s/token/
  acl gateway_path path %s/sse
  use_backend gateways if gateway_path
  default_backend controlplanes

backend gateways
  balance leastconn
  # A WebSocket upgrade refused by a draining gateway goes to another.
  retry-on conn-failure empty-response 503
  option httpchk GET /readyz
  http-check expect rstring %s
`, DefaultBalancerRetries, ms(o.ConnectTimeout), ms(o.RequestTimeout), ms(o.RequestTimeout), ms(o.RequestTimeout),
		ms(o.TunnelTimeout), ms(o.ConnectTimeout), ms(o.HealthInterval), healthFall, healthRise,
		hostPort(o.Host, t.balancerPort), t.wsPrefix, t.wsPrefix, t.wsPrefix, readyPattern)
	writeServers(&b, "gw", o.Host, t.gatewayPorts)
	fmt.Fprintf(&b, `
backend controlplanes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect rstring %s
`, readyPattern)
	writeServers(&b, "cp", o.Host, t.controlPlanePorts)
	path := filepath.Join(o.Dir, "haproxy.cfg")
	return path, os.WriteFile(path, []byte(b.String()), filePerm)
}

// readyPattern matches a /readyz body (ops: keys sorted, "checks" before
// "status") whose NATS check passes and whose status is not
// shutting_down; "." stands for the quotes, which HAProxy would need
// escaped.
const readyPattern = `nats.:.ok.*status.:.(not_)?ready.`

// Health check thresholds: two failed checks in a row take a server out
// (one slow /readyz while a NATS node rejoins does not), two passed ones
// put it back.
const (
	healthFall = 2
	healthRise = 2
)

// writeServers lists a backend's servers, health-checked, and each once
// more as an unchecked backup: when every server fails its check at once
// (all of them briefly losing NATS while a node rejoins), the balancer
// still tries them rather than answer 503 itself.
func writeServers(b *strings.Builder, prefix, host string, ports []int) {
	for i, port := range ports {
		fmt.Fprintf(b, "  server %s%d %s check\n", prefix, i, hostPort(host, port))
	}
	for i, port := range ports {
		fmt.Fprintf(b, "  server %s%d-fallback %s backup\n", prefix, i, hostPort(host, port))
	}
	b.WriteString("  option allbackups\n")
}

// ms writes d in HAProxy's millisecond form.
func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
