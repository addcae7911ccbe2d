package platform

import (
	"fmt"
	"strings"
)

// printBanner tells a newcomer what is running and how to reach it. It goes
// to stdout, never to the structured log, because it holds the demo secret
// and the admin token.
func (p *Platform) printBanner() {
	u := p.URL()
	var b strings.Builder
	wsScheme := "ws://"
	if p.cfg.TLS.enabled() {
		wsScheme = "wss://"
	}
	ws := wsScheme + p.addr + p.cfg.WSPathPrefix + "/app/" + p.cfg.DevAppKey + "?protocol=7"
	fmt.Fprintf(&b, "\n  Herald dev is running\n\n")
	fmt.Fprintf(&b, "  WebSocket     %s  (pusher-js: wsHost %s)\n", ws, p.addr)
	fmt.Fprintf(&b, "  Publish       POST %s/apps/%s/events  (Pusher-signed, or Basic key:secret)\n", u, p.cfg.DevAppID)
	fmt.Fprintf(&b, "  Admin API     %s/admin/v1  (OpenAPI: %s/admin/v1/openapi.json)\n", u, u)
	fmt.Fprintf(&b, "  Admin token   %s\n", p.adminToken)
	fmt.Fprintf(&b, "  Health        %s/healthz  %s/readyz  %s/metrics\n", u, u, u)
	fmt.Fprintf(&b, "\n  Demo app      id %s   key %s   secret %s\n", p.cfg.DevAppID, p.cfg.DevAppKey, p.cfg.DevAppSecret)
	fmt.Fprintf(&b, "  Data folder   %s\n", p.cfg.DataDir)
	switch {
	case p.cfg.DatabaseURL != "":
		fmt.Fprintf(&b, "  Postgres      the database given by --database-url\n")
	case p.parts.pgCluster != nil:
		fmt.Fprintf(&b, "  Postgres      managed cluster in %s\n", p.parts.pgCluster.Dir())
	}
	if p.natsURL != "" {
		fmt.Fprintf(&b, "  NATS          %s\n", p.natsURL)
	} else {
		fmt.Fprintf(&b, "  NATS          embedded, in-process only (set --nats-port to open a listener)\n")
	}
	fmt.Fprintf(&b, "\n  Try: HERALD_ADMIN_TOKEN=%s go run ./cmd/herald admin apps list\n\n", p.adminToken)
	fmt.Fprint(p.cfg.Stdout, b.String())
}
