package platform

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/console"
	"github.com/heraldhq/herald/gateway"
)

// docsURL is where Herald's documentation lives: the repository's README
// and docs folder.
const docsURL = "https://github.com/heraldhq/herald"

// rootPageTemplate is the page `herald dev` answers on GET /: where to go
// next, with no secret on it (anyone who reaches the port may read it).
var rootPageTemplate = template.Must(template.New("root").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald dev</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>Herald dev is running</h1>
<p>A realtime messaging server that speaks the Pusher Channels protocol. The demo app's key is
<code>{{.AppKey}}</code>; its secret and the admin token are printed in the terminal that runs
<code>herald dev</code>.</p>
<h2>Console</h2>
<p><a href="{{.Console}}">Open the web console</a>: accounts, plans, apps and their keys, usage charts, the audit log.
Sign in with the admin token from the terminal.</p>
<h2>Documentation</h2>
<ul>
<li><a href="{{.Docs}}#readme">README</a>: quick start, flags, the client, tenant and admin APIs</li>
<li><a href="{{.Docs}}/blob/main/docs/protocol.md">docs/protocol.md</a>: errors, close codes, tokens, SSE, history, cross-origin requests</li>
<li><a href="{{.Docs}}/blob/main/docs/architecture.md">docs/architecture.md</a>: processes, packages, where state lives</li>
</ul>
<h2>Endpoints</h2>
<ul>
<li>WebSocket: <code>{{.WSPath}}{{.AppKey}}?protocol=7</code></li>
<li>Server-Sent Events: <a href="{{.SSE}}">{{.SSE}}</a></li>
<li>Admin API: <a href="/admin/v1/openapi.json">/admin/v1/openapi.json</a> (OpenAPI; every other route needs the admin token)</li>
<li>Token signing keys: <a href="{{.JWKS}}">{{.JWKS}}</a></li>
</ul>
<h2>Health</h2>
<ul>
<li><a href="/healthz">/healthz</a>: the process is up</li>
<li><a href="/readyz">/readyz</a>: its dependencies answer</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
</ul>
</body>
</html>
`))

// rootPageData fills rootPageTemplate.
type rootPageData struct {
	AppKey, WSPath, SSE, JWKS, Docs, Console string
}

// rootPage answers GET and HEAD / with the page.
func (p *Platform) rootPage() http.Handler {
	d := rootPageData{AppKey: p.cfg.DevAppKey, JWKS: api.JWKSPath, Docs: docsURL, Console: console.Path}
	if gw := p.parts.gateway; gw != nil {
		d.WSPath = gw.Path()
		d.SSE = gw.SSEPath() + "?key=" + url.QueryEscape(p.cfg.DevAppKey) + "&channel=demo"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := rootPageTemplate.Execute(&b, d); err != nil {
			p.cfg.Logger.Error("render the root page", "err", err)
			gateway.WriteError(w, r, http.StatusInternalServerError, channels.CodeInternal, "internal error")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(b.Len()))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(b.Bytes())
		}
	})
}
