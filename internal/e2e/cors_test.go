package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

// corsAnswer is one HTTP answer, read whole.
type corsAnswer struct {
	status int
	header http.Header
	body   []byte
}

// Origins of the CORS tests: the strict app lists only goodOrigin.
const (
	goodOrigin = "http://localhost:5173"
	badOrigin  = "https://evil.example"
	strictApp  = "cors-strict"
)

// corsDo sends method to url with headers h (an Origin, a preflight's
// Access-Control-Request-*, a token) and reads the answer.
func corsDo(t *testing.T, method, url string, h map[string]string) corsAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := corsAnswer{status: res.StatusCode, header: res.Header}
	if res.Header.Get("Content-Type") == "text/event-stream" {
		return a // a stream never ends on its own
	}
	if a.body, err = io.ReadAll(res.Body); err != nil {
		t.Fatal(err)
	}
	return a
}

// preflightFrom is what a browser sends before a GET with a token and a
// Last-Event-ID from a page on origin.
func preflightFrom(origin string) map[string]string {
	return map[string]string{
		"Origin":                         origin,
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "authorization, last-event-id",
	}
}

// wantAllowed checks that a answers a page on origin (allowOrigin is the
// expected Access-Control-Allow-Origin) with status.
func (a corsAnswer) wantAllowed(t *testing.T, status int, allowOrigin string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d: %s", a.status, status, a.body)
	}
	if got := a.header.Get("Access-Control-Allow-Origin"); got != allowOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, allowOrigin)
	}
	if allowOrigin != "*" && !headerHas(a.header, "Vary", "Origin") {
		t.Errorf("Vary = %q, want Origin", a.header.Values("Vary"))
	}
	if a.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("Access-Control-Allow-Credentials sent: credentials never travel in cookies")
	}
}

// wantPreflightAllowed checks a 204 preflight answer for origin.
func (a corsAnswer) wantPreflightAllowed(t *testing.T, allowOrigin string) {
	t.Helper()
	a.wantAllowed(t, http.StatusNoContent, allowOrigin)
	if !headerHas(a.header, "Access-Control-Allow-Methods", "GET") {
		t.Errorf("Access-Control-Allow-Methods = %q", a.header.Get("Access-Control-Allow-Methods"))
	}
	for _, h := range []string{"Authorization", "Last-Event-ID"} {
		if !headerHas(a.header, "Access-Control-Allow-Headers", h) {
			t.Errorf("Access-Control-Allow-Headers = %q, want %s", a.header.Get("Access-Control-Allow-Headers"), h)
		}
	}
	if a.header.Get("Access-Control-Max-Age") == "" {
		t.Error("no Access-Control-Max-Age")
	}
}

// wantRefused checks a refusal in the JSON error shape that gives the
// page no way to read it.
func (a corsAnswer) wantRefused(t *testing.T, status int, code channels.Code) {
	t.Helper()
	a.wantError(t, status, code)
	a.wantNoCORS(t)
}

// wantNoCORS checks that the answer carries no CORS header at all.
func (a corsAnswer) wantNoCORS(t *testing.T) {
	t.Helper()
	for k := range a.header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("CORS header %s: %q", k, a.header.Get(k))
		}
	}
}

// wantError checks status and the one JSON error shape with code.
func (a corsAnswer) wantError(t *testing.T, status int, code channels.Code) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var body channels.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(a.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		t.Errorf("body = %s (%v), want the error shape with code %s", a.body, err, code)
	}
}

// headerHas reports whether a comma-separated header lists v
// (case-insensitively).
func headerHas(h http.Header, name, v string) bool {
	fields := strings.Split(strings.Join(h.Values(name), ","), ",")
	return slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(strings.TrimSpace(f), v) })
}

// with returns h plus the pairs kv.
func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestCORS sends real preflights and requests, from an allowed and a
// refused origin, to every client-facing endpoint of a running Herald, and
// checks that the signed tenant API and the admin API never answer
// cross-origin.
func TestCORS(t *testing.T) {
	h := testenv.Herald(t)
	skey, ssecret := newApp(t, h, strictApp, map[string]any{"allowed_origins": []string{goodOrigin}})
	everything := channels.Capabilities{"*": {channels.OpHistory}}
	stok := tenantToken(t, skey, ssecret, strictApp, "pat", time.Hour, everything)
	demoTok := tenantToken(t, key, secret, appID, "pat", time.Hour, everything)
	testenv.Trigger(t, h.URL(), strictApp, skey, ssecret, "e", "one", "news")
	testenv.Trigger(t, h.URL(), strictApp, skey, ssecret, "e", "two", "news")

	sse := func(k string) string { return h.URL() + "/sse?key=" + k + "&channel=news" }
	history := func(app string) string { return h.URL() + "/apps/" + app + "/channels/news/messages?limit=1" }
	from := func(origin string) map[string]string { return map[string]string{"Origin": origin} }
	bearer := func(origin, tok string) map[string]string { return with(from(origin), "Authorization", "Bearer "+tok) }

	t.Run("sse preflight", func(t *testing.T) {
		corsDo(t, http.MethodOptions, sse(skey), preflightFrom(goodOrigin)).wantPreflightAllowed(t, goodOrigin)
		corsDo(t, http.MethodOptions, sse(skey), preflightFrom(badOrigin)).wantRefused(t, http.StatusForbidden, channels.CodeForbidden)
		corsDo(t, http.MethodOptions, sse("no-such-key"), preflightFrom(goodOrigin)).wantRefused(t, http.StatusNotFound, channels.CodeAppNotFound)
		// An app without allowed_origins answers any origin.
		corsDo(t, http.MethodOptions, sse(key), preflightFrom(badOrigin)).wantPreflightAllowed(t, badOrigin)
	})
	t.Run("sse stream", func(t *testing.T) {
		a := corsDo(t, http.MethodGet, sse(skey), from(goodOrigin))
		a.wantAllowed(t, http.StatusOK, goodOrigin)
		if ct := a.header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("Content-Type = %q", ct)
		}
		corsDo(t, http.MethodGet, sse(skey), from(badOrigin)).wantRefused(t, http.StatusForbidden, channels.CodeForbidden)
		corsDo(t, http.MethodGet, sse(key), from(badOrigin)).wantAllowed(t, http.StatusOK, badOrigin)
		// A refusal after the origin check is readable by the page.
		a = corsDo(t, http.MethodGet, h.URL()+"/sse?key="+skey+"&channel=private-x", from(goodOrigin))
		a.wantError(t, http.StatusForbidden, channels.CodeForbidden)
		a.wantAllowed(t, http.StatusForbidden, goodOrigin)
		// Same-origin EventSource requests carry no Origin: not cross-origin.
		corsDo(t, http.MethodGet, sse(skey), nil).wantAllowed(t, http.StatusOK, "")
	})
	t.Run("history with a Bearer token", func(t *testing.T) {
		corsDo(t, http.MethodOptions, history(strictApp), preflightFrom(goodOrigin)).wantPreflightAllowed(t, goodOrigin)
		corsDo(t, http.MethodOptions, history(strictApp), preflightFrom(badOrigin)).wantRefused(t, http.StatusForbidden, channels.CodeForbidden)
		corsDo(t, http.MethodOptions, history(appID), preflightFrom(badOrigin)).wantPreflightAllowed(t, badOrigin)

		a := corsDo(t, http.MethodGet, history(strictApp), bearer(goodOrigin, stok))
		a.wantAllowed(t, http.StatusOK, goodOrigin)
		// The next page's Link is readable cross-origin.
		if a.header.Get("Link") == "" || !headerHas(a.header, "Access-Control-Expose-Headers", "Link") {
			t.Errorf("Link = %q, exposed: %q", a.header.Get("Link"), a.header.Get("Access-Control-Expose-Headers"))
		}
		corsDo(t, http.MethodGet, history(strictApp), bearer(badOrigin, stok)).wantRefused(t, http.StatusForbidden, channels.CodeForbidden)
		corsDo(t, http.MethodGet, history(appID), bearer(badOrigin, demoTok)).wantAllowed(t, http.StatusOK, badOrigin)
		// A bad token's 401 is readable by the page.
		a = corsDo(t, http.MethodGet, history(strictApp), bearer(goodOrigin, demoTok))
		a.wantError(t, http.StatusUnauthorized, channels.CodeUnauthorized)
		a.wantAllowed(t, http.StatusUnauthorized, goodOrigin)
	})
	t.Run("jwks answers any origin", func(t *testing.T) {
		corsDo(t, http.MethodGet, h.URL()+"/.well-known/jwks.json", from(badOrigin)).wantAllowed(t, http.StatusOK, "*")
		corsDo(t, http.MethodOptions, h.URL()+"/.well-known/jwks.json", preflightFrom(badOrigin)).wantPreflightAllowed(t, "*")
	})
	t.Run("signed tenant routes never answer cross-origin", func(t *testing.T) {
		tr := &originTransport{origin: goodOrigin}
		client := &http.Client{Transport: tr}
		code, body := testenv.SignedRequestWith(t, client, http.MethodGet, h.URL(), "/apps/"+strictApp+"/channels/news/messages",
			skey, ssecret, url.Values{"limit": {"1"}}, nil)
		if code != http.StatusOK {
			t.Fatalf("signed history = %d %s", code, body)
		}
		corsAnswer{status: code, header: tr.last}.wantNoCORS(t)
		code, body = testenv.SignedRequestWith(t, client, http.MethodPost, h.URL(), "/apps/"+strictApp+"/tokens",
			skey, ssecret, nil, []byte(`{"user_id":"pat","capabilities":{"news":["history"]}}`))
		if code != http.StatusOK {
			t.Fatalf("signed token request = %d %s", code, body)
		}
		corsAnswer{status: code, header: tr.last}.wantNoCORS(t)
		for _, p := range []string{"/events", "/tokens", "/channels"} {
			pre := preflightFrom(goodOrigin)
			pre["Access-Control-Request-Method"] = http.MethodPost
			corsDo(t, http.MethodOptions, h.URL()+"/apps/"+strictApp+p, pre).wantNoCORS(t)
		}
	})
	t.Run("admin API never answers cross-origin", func(t *testing.T) {
		a := corsDo(t, http.MethodGet, h.URL()+"/admin/v1/accounts", bearer(goodOrigin, h.AdminToken()))
		if a.status != http.StatusOK {
			t.Fatalf("admin request = %d %s", a.status, a.body)
		}
		a.wantNoCORS(t)
		corsDo(t, http.MethodOptions, h.URL()+"/admin/v1/accounts", preflightFrom(goodOrigin)).wantNoCORS(t)
	})
}

// originTransport sends every request with an Origin header, as a browser
// would, and keeps the headers of the last answer.
type originTransport struct {
	origin string
	last   http.Header
}

func (o *originTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Origin", o.origin)
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		o.last = res.Header
	}
	return res, err
}
