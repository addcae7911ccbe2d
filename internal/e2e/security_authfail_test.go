package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// authFailBurst is the auth-failure burst of the throttling tests; the
// refill rate is slowRefill, so that a spent bucket stays spent.
const authFailBurst = 3

// forwardedAs is a transport that sends every request as if a proxy had
// forwarded it for client: the test's loopback address is a trusted
// proxy, so Herald counts the failures against client, the real path of
// a deployment behind a load balancer.
type forwardedAs struct{ client string }

func (f forwardedAs) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.client)
	return http.DefaultTransport.RoundTrip(r)
}

// clientFrom is an HTTP client whose requests come from addr. Its
// timeout ends a stream opened where a refusal was wanted.
func clientFrom(addr string) *http.Client {
	return &http.Client{Transport: forwardedAs{addr}, Timeout: testenv.PusherTimeout}
}

func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// throttledHerald serves dev mode behind a trusted loopback proxy with a
// small auth-failure burst.
func throttledHerald(t *testing.T) *testenv.HeraldEnv {
	t.Helper()
	return testenv.Herald(t, func(c *platform.Config) {
		c.Limits.AuthFailRate = slowRefill
		c.Limits.AuthFailBurst = authFailBurst
		c.Limits.Conn.TrustedProxies = []string{"127.0.0.1"}
	})
}

// wantThrottled checks a 429 in the one JSON error shape with a whole,
// positive Retry-After.
func wantThrottled(t *testing.T, what string, code int, header http.Header, body []byte) {
	t.Helper()
	wantTooMany(t, what, code, header)
	var e channels.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != channels.CodeRateLimited ||
		!strings.Contains(e.Error.Message, "failed authentications") {
		t.Fatalf("%s: body %s, want the error shape with code %s", what, body, channels.CodeRateLimited)
	}
}

// adminAccounts sends GET /admin/v1/accounts with token through client.
func adminAccounts(t *testing.T, client *http.Client, h *testenv.HeraldEnv, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.URL()+"/admin/v1/accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return testenv.DoHeader(t, client, req)
}

// TestAuthFailThrottle: from one (forwarded) client address, every kind
// of refused credential counts; after the burst that address's
// credentials are refused unchecked — the right ones too — with 429 and
// Retry-After over HTTP and pusher:error 4301 then close 4301 on a
// WebSocket, while other addresses and loopback are untouched.
func TestAuthFailThrottle(t *testing.T) {
	t.Parallel()
	h := throttledHerald(t)
	eventsPath := "/apps/" + testenv.AppID + "/events"
	event := []byte(`{"name":"e","data":"{}","channels":["throttle"]}`)
	caps := channels.Capabilities{"*": {channels.OpSubscribe}}
	goodToken := tenantToken(t, testenv.AppKey, testenv.AppSecret, testenv.AppID, "u", time.Hour, caps)
	badToken := tenantToken(t, testenv.AppKey, "wrong-secret", testenv.AppID, "u", time.Hour, caps)

	t.Run("rest signature", func(t *testing.T) {
		t.Parallel()
		c := clientFrom("203.0.113.1")
		// Successes never count.
		for range 2 * authFailBurst {
			if code, _ := testenv.SignedRequestWith(t, c, "POST", h.URL(), eventsPath, testenv.AppKey, testenv.AppSecret, nil, event); code != http.StatusOK {
				t.Fatalf("good publish = %d", code)
			}
		}
		for i := range authFailBurst {
			if code, _ := testenv.SignedRequestWith(t, c, "POST", h.URL(), eventsPath, testenv.AppKey, "wrong", nil, event); code != http.StatusUnauthorized {
				t.Fatalf("bad signature %d = %d, want 401", i+1, code)
			}
		}
		code, header, body := testenv.SignedRequestHeader(t, c, "POST", h.URL(), eventsPath, testenv.AppKey, testenv.AppSecret, nil, event)
		wantThrottled(t, "good signature after the burst", code, header, body)
		// Another address, and loopback, are served.
		if code, _ := testenv.SignedRequestWith(t, clientFrom("203.0.113.2"), "POST", h.URL(), eventsPath, testenv.AppKey, testenv.AppSecret, nil, event); code != http.StatusOK {
			t.Fatalf("another address = %d", code)
		}
		for range 2 * authFailBurst {
			testenv.SignedRequest(t, "POST", h.URL(), eventsPath, testenv.AppKey, "wrong", nil, event)
		}
		if code, _ := testenv.SignedRequest(t, "POST", h.URL(), eventsPath, testenv.AppKey, testenv.AppSecret, nil, event); code != http.StatusOK {
			t.Fatalf("loopback after failures = %d, want 200 (exempt)", code)
		}
	})

	t.Run("rest basic", func(t *testing.T) {
		t.Parallel()
		c := clientFrom("203.0.113.3")
		send := func(secret string) (int, http.Header, []byte) {
			req, _ := http.NewRequest(http.MethodGet, h.URL()+"/apps/"+testenv.AppID+"/channels", nil)
			req.SetBasicAuth(testenv.AppKey, secret)
			return testenv.DoHeader(t, c, req)
		}
		for range authFailBurst {
			if code, _, _ := send("wrong"); code != http.StatusUnauthorized {
				t.Fatalf("bad Basic = %d", code)
			}
		}
		code, header, body := send(testenv.AppSecret)
		wantThrottled(t, "good Basic after the burst", code, header, body)
	})

	t.Run("admin token", func(t *testing.T) {
		t.Parallel()
		c := clientFrom("203.0.113.4")
		for range authFailBurst {
			if code, _, _ := adminAccounts(t, c, h, "guess"); code != http.StatusUnauthorized {
				t.Fatalf("bad admin token = %d", code)
			}
		}
		code, header, body := adminAccounts(t, c, h, h.AdminToken())
		wantThrottled(t, "the admin token after the burst", code, header, body)
		if code, _, body := adminAccounts(t, clientFrom("203.0.113.5"), h, h.AdminToken()); code != http.StatusOK {
			t.Fatalf("another address = %d: %s", code, body)
		}
	})

	t.Run("websocket token", func(t *testing.T) {
		t.Parallel()
		from := xff("203.0.113.6")
		for range authFailBurst {
			_, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "protocol=7&token="+badToken, from)
			if err == nil || !strings.Contains(err.Error(), "4009") {
				t.Fatalf("bad token: %v, want 4009", err)
			}
		}
		wantRefused4301(t, h, "protocol=7&token="+goodToken, from)
		// A connection without credentials is not refused.
		if _, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", from); err != nil {
			t.Fatalf("plain connection from a throttled address: %v", err)
		}
	})

	t.Run("sse token", func(t *testing.T) {
		t.Parallel()
		c := clientFrom("203.0.113.7")
		open := func(tok string) (int, http.Header, []byte) {
			req, _ := http.NewRequest(http.MethodGet, h.URL()+"/sse?key="+testenv.AppKey+"&channel=private-x&token="+url.QueryEscape(tok), nil)
			return testenv.DoHeader(t, c, req)
		}
		for range authFailBurst {
			if code, _, _ := open(badToken); code != http.StatusUnauthorized {
				t.Fatalf("bad SSE token = %d", code)
			}
		}
		code, header, body := open(goodToken)
		wantThrottled(t, "good SSE token after the burst", code, header, body)
	})

	t.Run("channel auth", func(t *testing.T) {
		t.Parallel()
		from := xff("203.0.113.8")
		p, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", from)
		if err != nil {
			t.Fatal(err)
		}
		for i := range authFailBurst {
			ch := "private-guess-" + strconv.Itoa(i)
			if e := p.Subscribe(ch, testenv.AppKey, "wrong-secret", ""); e.Event != protocol.EventSubscriptionError {
				t.Fatalf("bad channel auth: %s", e.Event)
			}
		}
		// The right signature is not checked any more: the connection is
		// closed with 4301.
		ch := "private-right"
		p.Send(protocol.EventSubscribe, "", map[string]any{"channel": ch,
			"auth": channels.SignAuth(testenv.AppKey, testenv.AppSecret, channels.ChannelStringToSign(p.SocketID, ch, ""))})
		wantFatal4301(t, p)
	})

	t.Run("sign-in", func(t *testing.T) {
		t.Parallel()
		from := xff("203.0.113.11")
		for range authFailBurst {
			p, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", from)
			if err != nil {
				t.Fatal(err)
			}
			p.Send(protocol.EventSignin, "", map[string]any{"auth": testenv.AppKey + ":" + strings.Repeat("0", 64), "user_data": `{"id":"u"}`})
			if code := p.ExpectClose(); code != uint16(channels.PusherUnauthorized) {
				t.Fatalf("bad sign-in closed with %d, want 4009", code)
			}
		}
		p, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "", from)
		if err != nil {
			t.Fatal(err)
		}
		user := `{"id":"u"}`
		p.Send(protocol.EventSignin, "", map[string]any{"user_data": user,
			"auth": channels.SignAuth(testenv.AppKey, testenv.AppSecret, channels.UserStringToSign(p.SocketID, user))})
		wantFatal4301(t, p)
	})

	t.Run("token refresh", func(t *testing.T) {
		t.Parallel()
		p, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, "protocol=7&token="+goodToken, xff("203.0.113.12"))
		if err != nil {
			t.Fatal(err)
		}
		for range authFailBurst {
			p.Send(protocol.EventRefresh, "", map[string]any{"token": badToken})
			e, _ := p.Expect(protocol.EventError, "")
			var d struct{ Code int }
			e.DecodeData(t, &d)
			if d.Code != int(channels.PusherUnauthorized) {
				t.Fatalf("bad refresh: pusher:error %d, want 4009", d.Code)
			}
		}
		p.Send(protocol.EventRefresh, "", map[string]any{"token": goodToken})
		wantFatal4301(t, p)
	})

	// Once the parallel subtests are done: each kind failed and was
	// throttled.
	t.Cleanup(func() {
		for _, kind := range []string{"rest", "token", "channel_auth", "admin"} {
			if v, _ := strconv.ParseFloat(metricSeriesValue(t, h, fmt.Sprintf(`herald_auth_failures_total{kind=%q}`, kind)), 64); v < authFailBurst {
				t.Errorf("failures{%s} = %v, want at least %d", kind, v, authFailBurst)
			}
			if v, _ := strconv.ParseFloat(metricSeriesValue(t, h, fmt.Sprintf(`herald_auth_throttled_total{kind=%q}`, kind)), 64); v < 1 {
				t.Errorf("throttled{%s} = %v, want at least 1", kind, v)
			}
		}
	})
}

// wantRefused4301 dials a WebSocket with query from header's address and
// wants pusher:error 4301 then close 4301.
func wantRefused4301(t *testing.T, h *testenv.HeraldEnv, query string, header http.Header) {
	t.Helper()
	_, err := testenv.DialPusher(t, h.URL(), testenv.AppKey, query, header)
	var closed testenv.Closed
	if err == nil || !strings.Contains(err.Error(), protocol.EventError+" 4301") || !errors.As(err, &closed) || closed.Code != 4301 {
		t.Fatalf("throttled WebSocket: %v, want pusher:error 4301 then close 4301", err)
	}
}

// wantFatal4301 reads pusher:error 4301 and then close 4301 on p.
func wantFatal4301(t *testing.T, p *testenv.PusherClient) {
	t.Helper()
	e, _ := p.Expect(protocol.EventError, "")
	var d struct{ Code int }
	e.DecodeData(t, &d)
	if d.Code != int(channels.PusherClientEventLimit) {
		t.Fatalf("pusher:error %d, want 4301", d.Code)
	}
	if code := p.ExpectClose(); code != uint16(channels.PusherClientEventLimit) {
		t.Fatalf("close %d, want 4301", code)
	}
}
