package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// slowRefill is a refill rate no test outlives: a bucket, once empty,
// stays empty for the test.
const slowRefill = 0.001

// withConnLimits sets the connection-rate limits, applied to loopback.
func withConnLimits(l gateway.ConnLimits) func(*platform.Config) {
	return func(c *platform.Config) {
		l.Loopback = true
		c.Limits.Conn = l
	}
}

// rawUpgradeRequest sends a WebSocket upgrade request with a plain HTTP client,
// so that a refusal's headers can be read.
func rawUpgradeRequest(t *testing.T, h *testenv.HeraldEnv, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", h.URL()+"/app/"+testenv.AppKey+"?protocol=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// wantTooMany checks a 429 with a whole, positive Retry-After.
func wantTooMany(t *testing.T, what string, code int, header http.Header) {
	t.Helper()
	if code != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429", what, code)
	}
	s, err := strconv.Atoi(header.Get("Retry-After"))
	if err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q, want whole seconds >= 1", what, header.Get("Retry-After"))
	}
}

func sseOpenStatus(t *testing.T, h *testenv.HeraldEnv) (int, http.Header) {
	t.Helper()
	res, err := http.Get(h.URL() + "/sse?key=" + testenv.AppKey + "&channel=limits")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode, res.Header
}

// metricSeriesValue returns the value of one series of /metrics ("" if absent).
func metricSeriesValue(t *testing.T, h *testenv.HeraldEnv, series string) string {
	t.Helper()
	return metricSeriesAt(t, h.URL(), series)
}

// metricSeriesAt returns the value of one series of a server's /metrics
// ("" if absent).
func metricSeriesAt(t *testing.T, serverURL, series string) string {
	t.Helper()
	res, err := http.Get(serverURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}

// TestConnRateLimitPerIP: once an address has used its burst, WebSocket
// requests are refused with 429 and Retry-After before the upgrade, and
// so are SSE requests (they share the address's bucket).
func TestConnRateLimitPerIP(t *testing.T) {
	t.Parallel()
	const burst = 3
	h := testenv.Herald(t, withConnLimits(gateway.ConnLimits{RatePerIP: slowRefill, BurstPerIP: burst, RatePerApp: -1}))
	for i := range burst {
		if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", nil); err != nil {
			t.Fatalf("connection %d of the burst: %v", i+1, err)
		}
	}
	res := rawUpgradeRequest(t, h, nil)
	wantTooMany(t, "WebSocket over the per-address limit", res.StatusCode, res.Header)
	if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", nil); err == nil {
		t.Fatal("a WebSocket over the per-address limit connected")
	}
	code, header := sseOpenStatus(t, h)
	wantTooMany(t, "SSE over the per-address limit", code, header)

	if got := metricSeriesValue(t, h, `herald_gateway_connections_rate_limited_total{scope="ip",transport="ws"}`); got != "2" {
		t.Errorf("ws refusals counted %q, want 2", got)
	}
	if got := metricSeriesValue(t, h, `herald_gateway_connections_rate_limited_total{scope="ip",transport="sse"}`); got != "1" {
		t.Errorf("sse refusals counted %q, want 1", got)
	}
}

// TestConnRateLimitPerApp: an app over its connection rate gets its
// WebSockets upgraded and refused the Pusher way (pusher:error 4100, close
// 4100: reconnect after a back-off), and SSE requests 429.
func TestConnRateLimitPerApp(t *testing.T) {
	t.Parallel()
	const burst = 2
	h := testenv.Herald(t, withConnLimits(gateway.ConnLimits{RatePerIP: -1, RatePerApp: slowRefill, BurstPerApp: burst}))
	for i := range burst {
		if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", nil); err != nil {
			t.Fatalf("connection %d of the burst: %v", i+1, err)
		}
	}
	_, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", nil)
	var closed testenv.Closed
	if err == nil || !strings.Contains(err.Error(), "pusher:error 4100") || !errors.As(err, &closed) || closed.Code != uint16(channels.PusherOverCapacity) {
		t.Fatalf("over the per-app limit: %v, want pusher:error 4100 then close 4100", err)
	}
	code, header := sseOpenStatus(t, h)
	wantTooMany(t, "SSE over the per-app limit", code, header)
	if got := metricSeriesValue(t, h, `herald_gateway_connections_rate_limited_total{scope="app",transport="ws"}`); got != "1" {
		t.Errorf("ws refusals counted %q, want 1", got)
	}
}

// TestConnRateLimitLoopbackExempt: without --rate-limit-loopback, local
// clients are never throttled, however small the limits.
func TestConnRateLimitLoopbackExempt(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Limits.Conn = gateway.ConnLimits{RatePerIP: slowRefill, BurstPerIP: 1, RatePerApp: slowRefill, BurstPerApp: 1}
	})
	for i := range 5 {
		if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", nil); err != nil {
			t.Fatalf("loopback connection %d: %v", i+1, err)
		}
		if code, _ := sseOpenStatus(t, h); code == http.StatusTooManyRequests {
			t.Fatalf("loopback SSE %d refused", i+1)
		}
	}
}

// TestConnRateLimitTrustedProxy: behind a trusted proxy, the address in
// X-Forwarded-For is the one limited; from any other peer the header is
// ignored.
func TestConnRateLimitTrustedProxy(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t, withConnLimits(gateway.ConnLimits{
		RatePerIP: slowRefill, BurstPerIP: 1, RatePerApp: -1, TrustedProxies: []string{"127.0.0.0/8"},
	}))
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
	if res := rawUpgradeRequest(t, h, from("203.0.113.1")); res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first connection of 203.0.113.1: %d", res.StatusCode)
	}
	if res := rawUpgradeRequest(t, h, from("203.0.113.2")); res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first connection of 203.0.113.2: %d", res.StatusCode)
	}
	res := rawUpgradeRequest(t, h, from("203.0.113.1"))
	wantTooMany(t, "second connection of 203.0.113.1", res.StatusCode, res.Header)
}

// TestHeaderSizeLimit: a WebSocket handshake (or any request) whose
// headers exceed --max-header-bytes is answered 431, before any handler.
func TestHeaderSizeLimit(t *testing.T) {
	t.Parallel()
	const limit = 4 << 10
	h := testenv.Herald(t, func(c *platform.Config) { c.Limits.MaxHeaderBytes = limit })
	small := http.Header{"X-Padding": {strings.Repeat("a", limit/2)}}
	if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", small); err != nil {
		t.Fatalf("handshake under the limit: %v", err)
	}
	// Go's server allows 4 KiB of slack above the limit.
	big := http.Header{"X-Padding": {strings.Repeat("a", limit+8<<10)}}
	_, err := wstest.Dial(t.Context(), "ws://"+h.Addr()+"/app/"+testenv.AppKey+"?protocol=7", big)
	var hs *wstest.HandshakeError
	if !errors.As(err, &hs) || hs.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized handshake: %v, want 431", err)
	}
}

// TestDefaultHeaderSizeLimit: the default cap holds without a flag.
func TestDefaultHeaderSizeLimit(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	big := http.Header{"X-Padding": {strings.Repeat("a", platform.DefaultMaxHeaderBytes+8<<10)}}
	res := rawUpgradeRequest(t, h, big)
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized handshake: %d, want 431", res.StatusCode)
	}
}

// TestBodySizeLimit: every HTTP API refuses a body over 256 KiB with 413
// and the JSON error shape, whether its length was declared or not.
func TestBodySizeLimit(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	huge := bytes.Repeat([]byte("a"), 300<<10)
	body := []byte(`{"name":"` + string(huge) + `"}`)
	for _, tc := range []struct {
		name, path string
		auth       func(*http.Request)
	}{
		{"admin API", "/admin/v1/accounts", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+h.AdminToken()) }},
		{"tenant REST", "/apps/" + testenv.AppID + "/events", func(r *http.Request) { r.SetBasicAuth(testenv.AppKey, testenv.AppSecret) }},
	} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s chunked=%v", tc.name, chunked), func(t *testing.T) {
				var rd io.Reader = bytes.NewReader(body)
				if chunked {
					rd = io.MultiReader(rd) // hides the length: sent chunked
				}
				req, _ := http.NewRequest("POST", h.URL()+tc.path, rd)
				req.Header.Set("Content-Type", "application/json")
				tc.auth(req)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var out struct {
					Error struct{ Code, Message string }
				}
				raw, _ := io.ReadAll(res.Body)
				if res.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(raw, &out) != nil || out.Error.Code != "payload_too_large" {
					t.Fatalf("POST %s with %d bytes = %d %s, want 413 payload_too_large", tc.path, len(body), res.StatusCode, raw)
				}
			})
		}
	}
}
