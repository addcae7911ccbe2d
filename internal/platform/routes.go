package platform

import (
	"net/http"
	"strings"

	"github.com/heraldhq/herald/controlplane/console"
	"github.com/heraldhq/herald/gateway"
)

// handler routes one address: operational endpoints first, then the
// gateway's WebSocket and SSE endpoints, then the control-plane APIs and
// the web console.
// Every error answer, unknown paths included, is the one JSON error shape;
// in dev mode GET / is a page of links (rootpage.go). Until the process
// has started, only the operational endpoints answer (startgate.go).
func (p *Platform) handler() http.Handler {
	mux := http.NewServeMux()
	p.ops.Register(mux)
	gw := p.parts.gateway
	if gw != nil {
		mux.Handle(gw.Path(), gw.Handler())
		mux.Handle(gw.TokenPath(), gw.Handler())
		// Every method: the gateway answers preflights and refuses the
		// rest in JSON, where the mux would answer 405 in plain text.
		mux.HandleFunc(gw.SSEPath(), gw.ServeSSE)
	}
	if p.cfg.Mode == ModeDev {
		mux.Handle("GET /{$}", p.rootPage())
	}
	if p.parts.api != nil {
		// The web console: files only, embedded; it calls the admin API
		// on this same address with the token its user types in.
		c := console.Handler()
		mux.Handle(console.Path, c)
		mux.Handle(strings.TrimSuffix(console.Path, "/"), c)
	}
	switch {
	case p.parts.api != nil:
		// The API answers unknown paths itself (JSON 404).
		mux.Handle("/", p.parts.api.Handler())
	case gw != nil:
		mux.HandleFunc("/", gateway.NotFound)
	}
	return p.startingGate(bodyDeadline(mux, orDefault(p.cfg.Limits.BodyTimeout, DefaultBodyReadTimeout)))
}
