package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestEdgeErrorsAreJSON: every refusal of the listener, on the gateway's
// endpoints as on the API's, is the one JSON error shape.
func TestEdgeErrorsAreJSON(t *testing.T) {
	h := testenv.Herald(t)
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
		code   channels.Code
	}{
		{"sse unknown key", "GET", "/sse?key=no-such-key&channel=a", nil, 404, channels.CodeAppNotFound},
		{"sse without a channel", "GET", "/sse?key=" + key, nil, 400, channels.CodeBadRequest},
		{"sse bad channel name", "GET", "/sse?key=" + key + "&channel=bad%20name", nil, 400, channels.CodeBadRequest},
		{"sse private channel without a token", "GET", "/sse?key=" + key + "&channel=private-a", nil, 403, channels.CodeForbidden},
		{"sse bad token", "GET", "/sse?key=" + key + "&channel=a&token=not-a-token", nil, 401, channels.CodeUnauthorized},
		{"sse bad cursor", "GET", "/sse?key=" + key + "&channel=a", map[string]string{"Last-Event-ID": "garbage"}, 400, channels.CodeBadRequest},
		{"sse wrong method", "POST", "/sse?key=" + key + "&channel=a", nil, 405, channels.CodeMethodNotAllowed},
		{"websocket without an upgrade", "GET", "/app/" + key + "?protocol=7", nil, 426, channels.CodeUpgradeRequired},
		{"websocket wrong method", "POST", "/app/" + key + "?protocol=7", nil, 405, channels.CodeMethodNotAllowed},
		{"websocket without a key", "GET", "/app/", nil, 404, channels.CodeNotFound},
		{"unknown route", "GET", "/no/such/route", nil, 404, channels.CodeNotFound},
		{"unknown method on the root", "POST", "/", nil, 404, channels.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := corsDo(t, tt.method, h.URL()+tt.path, tt.header)
			a.wantError(t, tt.status, tt.code)
			if tt.status == http.StatusMethodNotAllowed && a.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	t.Run("sse over the connection quota", func(t *testing.T) {
		k, _ := newApp(t, h, "json-quota", map[string]any{"max_connections": 1})
		// newApp's probe connection may still be closing: retry until the
		// one slot is ours.
		deadline := time.Now().Add(appChangeDeadline)
		for {
			if _, code, _ := openSSE(t, h, "key="+k+"&channel=a", ""); code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("could not take the app's one connection")
			}
			time.Sleep(20 * time.Millisecond)
		}
		corsDo(t, http.MethodGet, h.URL()+"/sse?key="+k+"&channel=a", nil).wantError(t, http.StatusTooManyRequests, channels.CodeOverQuota)
	})
}

// TestRootPage: herald dev answers GET / with a page of links, and no
// secret on it; other unknown paths stay JSON 404s.
func TestRootPage(t *testing.T) {
	h := testenv.Herald(t)
	a := corsDo(t, http.MethodGet, h.URL()+"/", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q", a.status, a.header.Get("Content-Type"))
	}
	page := string(a.body)
	for _, link := range []string{
		`href="/healthz"`, `href="/readyz"`, `href="/metrics"`, `href="/admin/v1/openapi.json"`,
		`href="/.well-known/jwks.json"`, `href="https://github.com/heraldhq/herald#readme"`,
		`href="/sse?key=` + key + `&amp;channel=demo"`,
	} {
		if !strings.Contains(page, link) {
			t.Errorf("the page has no %s", link)
		}
	}
	for _, s := range []string{h.AdminToken(), secret} {
		if strings.Contains(page, s) {
			t.Error("the page shows a secret")
		}
	}
	head := corsDo(t, http.MethodHead, h.URL()+"/", nil)
	if head.status != http.StatusOK || head.header.Get("Content-Type") != "text/html; charset=utf-8" || len(head.body) != 0 {
		t.Errorf("HEAD / = %d %q, %d bytes", head.status, head.header.Get("Content-Type"), len(head.body))
	}
	corsDo(t, http.MethodGet, h.URL()+"/index.html", nil).wantError(t, http.StatusNotFound, channels.CodeNotFound)

	t.Run("a gateway process has no page", func(t *testing.T) {
		// A gateway-only process, on the dev process's NATS: its listener
		// has no API behind it, and answers unknown paths itself.
		gw := testenv.StartHerald(t, platform.Config{
			Mode: platform.ModeGateway, Addr: "127.0.0.1:0", NATSURL: h.NATSURL(),
			MasterKey: secretbox.GenerateKey(), GatewayID: "gw-page",
			ShutdownTimeout: 5 * time.Second, Logger: testinfra.Logger(t),
		})
		for _, p := range []string{"/", "/no/such/route", "/admin/v1/accounts"} {
			corsDo(t, http.MethodGet, gw.URL()+p, nil).wantError(t, http.StatusNotFound, channels.CodeNotFound)
		}
		corsDo(t, http.MethodPost, gw.URL()+"/sse", nil).wantError(t, http.StatusMethodNotAllowed, channels.CodeMethodNotAllowed)
	})
}

// TestHeadAnswersAsGet: every endpoint of the listener that answers GET
// answers HEAD with the same status and headers and no body (RFC 9110),
// as load balancers and uptime checks expect; a HEAD never upgrades to a
// WebSocket nor opens a stream.
func TestHeadAnswersAsGet(t *testing.T) {
	h := testenv.Herald(t)
	admin := map[string]string{"Authorization": "Bearer " + h.AdminToken()}
	sse := "/sse?key=" + key + "&channel=a"

	// First, while no client is connected: a HEAD of a stream takes no
	// connection (a GET holds one until the client leaves). The HEAD's
	// client keeps its connection open while the count is read, so that a
	// stream opened for it would still be counted.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	res, err := (&http.Client{Transport: tr}).Head(h.URL() + sse)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("HEAD %s = %d %q", sse, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if n := metricValue(t, h.URL(), "herald_gateway_connections"); n != 0 {
		t.Fatalf("a HEAD of the stream left %v connections open", n)
	}
	tr.CloseIdleConnections()

	tests := []struct {
		name, path string
		header     map[string]string
	}{
		{"liveness", "/healthz", nil},
		{"readiness", "/readyz", nil},
		{"metrics", "/metrics", nil},
		{"root page", "/", nil},
		{"console", "/console/", nil},
		{"console redirect", "/console", nil},
		{"openapi", "/admin/v1/openapi.json", nil},
		{"admin", "/admin/v1/apps", admin},
		{"admin without a token", "/admin/v1/apps", nil},
		{"tenant without credentials", "/apps/" + appID + "/channels", nil},
		{"jwks", "/.well-known/jwks.json", nil},
		{"sse", sse, map[string]string{"Origin": "http://localhost:5173"}},
		{"sse unknown key", "/sse?key=no-such-key&channel=a", nil},
		{"sse without a channel", "/sse?key=" + key, nil},
		{"websocket", "/app/" + key + "?protocol=7", nil},
		{"websocket asking to upgrade", "/app/" + key + "?protocol=7", map[string]string{
			"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}},
		{"unknown route", "/no/such/route", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := corsDo(t, http.MethodHead, h.URL()+tt.path, tt.header)
			getHeader := tt.header
			if tt.name == "websocket asking to upgrade" {
				getHeader = nil // a GET would upgrade: the HEAD answers as a GET that does not
			}
			get := corsDo(t, http.MethodGet, h.URL()+tt.path, getHeader)
			if head.status != get.status || len(head.body) != 0 {
				t.Fatalf("HEAD = %d with %d bytes, GET = %d", head.status, len(head.body), get.status)
			}
			for _, k := range []string{"Content-Type", "Location", "Allow", "Upgrade", "Cache-Control", "Access-Control-Allow-Origin"} {
				if head.header.Get(k) != get.header.Get(k) {
					t.Errorf("HEAD %s = %q, GET's = %q", k, head.header.Get(k), get.header.Get(k))
				}
			}
		})
	}

	t.Run("gateway process", func(t *testing.T) {
		gw := testenv.StartHerald(t, platform.Config{
			Mode: platform.ModeGateway, Addr: "127.0.0.1:0", NATSURL: h.NATSURL(),
			MasterKey: secretbox.GenerateKey(), GatewayID: "gw-head",
			ShutdownTimeout: 5 * time.Second, Logger: testinfra.Logger(t),
		})
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/sse?key=no-such-key&channel=a", "/app/" + key, "/"} {
			head, get := corsDo(t, http.MethodHead, gw.URL()+p, nil), corsDo(t, http.MethodGet, gw.URL()+p, nil)
			if head.status != get.status || len(head.body) != 0 || head.header.Get("Content-Type") != get.header.Get("Content-Type") {
				t.Errorf("gateway HEAD %s = %d %q, GET = %d %q", p, head.status, head.header.Get("Content-Type"), get.status, get.header.Get("Content-Type"))
			}
		}
	})
}
