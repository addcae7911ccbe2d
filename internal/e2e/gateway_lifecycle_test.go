package e2e_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// appChangeDeadline bounds how long an admin change may take to reach the
// connections (the issue asks for 2 s).
const appChangeDeadline = 2 * time.Second

// newApp creates an account, and in it an app with settings and a key
// through the admin API.
func newApp(t *testing.T, h testenv.Node, id string, settings map[string]any) (key, secret string) {
	t.Helper()
	return newAppIn(t, h, newAccount(t, h, "acc-"+id), id, settings)
}

// newAccount creates an account and returns its id.
func newAccount(t *testing.T, h testenv.Node, name string) string {
	t.Helper()
	var acc struct{ ID string }
	if code := h.Admin(t, "POST", "/admin/v1/accounts", map[string]any{"name": name}, &acc); code != 201 {
		t.Fatalf("create account = %d", code)
	}
	return acc.ID
}

// newAppIn creates an app with settings and a key in account, and waits
// until the gateway knows the key.
func newAppIn(t *testing.T, h testenv.Node, account, id string, settings map[string]any) (key, secret string) {
	t.Helper()
	body := map[string]any{"account_id": account, "name": id, "id": id}
	if settings != nil {
		body["settings"] = settings
	}
	if code := h.Admin(t, "POST", "/admin/v1/apps", body, nil); code != 201 {
		t.Fatalf("create app = %d", code)
	}
	var k struct{ Key, Secret string }
	if code := h.Admin(t, "POST", "/admin/v1/apps/"+id+"/keys", map[string]any{}, &k); code != 201 {
		t.Fatalf("create key = %d", code)
	}
	testinfra.Sensitive(k.Secret)
	// The new key reaches the gateway's config cache through NATS.
	testinfra.WaitUntilWithin(t, "the new key usable", appChangeDeadline, func() bool {
		// Any answer but "unknown app" (4001) means the gateway knows the key.
		p, err := testenv.DialPusher(t, h.URL(), k.Key, "", nil)
		if p != nil {
			p.WS().Close()
		}
		return err == nil || !strings.Contains(err.Error(), "4001")
	})
	return k.Key, k.Secret
}

func TestRevokedKeyAndDisabledAppCloseConnections(t *testing.T) {
	h := testenv.Herald(t)
	k, _ := newApp(t, h, "rev", nil)
	p := testenv.MustDialPusher(t, h.URL(), k)
	start := time.Now()
	if code := h.Admin(t, "DELETE", "/admin/v1/apps/rev/keys/"+k, nil, nil); code != 204 {
		t.Fatalf("revoke = %d", code)
	}
	if code := p.ExpectClose(); code != 4001 {
		t.Fatalf("revoked key closed with %d", code)
	}
	t.Logf("revoked key's connection closed after %s", time.Since(start))
	if time.Since(start) > appChangeDeadline {
		t.Fatalf("took %s", time.Since(start))
	}

	k2, _ := newApp(t, h, "dis", nil)
	p = testenv.MustDialPusher(t, h.URL(), k2)
	if code := h.Admin(t, "PATCH", "/admin/v1/apps/dis", map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("disable = %d", code)
	}
	if code := p.ExpectClose(); code != 4003 {
		t.Fatalf("disabled app closed with %d", code)
	}
	_, err := testenv.DialPusher(t, h.URL(), k2, "", nil)
	if err == nil || !strings.Contains(err.Error(), "4003") {
		t.Fatalf("connect to a disabled app: %v", err)
	}
}

func TestQuotaAndOrigin(t *testing.T) {
	h := testenv.Herald(t)
	k, _ := newApp(t, h, "quota", map[string]any{"max_connections": 2, "allowed_origins": []string{"https://ok.example"}})
	ok := http.Header{"Origin": {"https://ok.example"}}
	for i := 0; i < 2; i++ {
		if _, err := testenv.DialPusher(t, h.URL(), k, "", ok); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	if _, err := testenv.DialPusher(t, h.URL(), k, "", ok); err == nil || !strings.Contains(err.Error(), "4004") {
		t.Fatalf("over quota: %v", err)
	}
	if _, err := testenv.DialPusher(t, h.URL(), k, "", http.Header{"Origin": {"https://evil.example"}}); err == nil || !strings.Contains(err.Error(), "4009") {
		t.Fatalf("wrong origin: %v", err)
	}
}

func TestServerPingsIdleClientsAndDropsSilentOnes(t *testing.T) {
	h := testenv.Herald(t)
	k, _ := newApp(t, h, "idle", map[string]any{"activity_timeout_s": 1})
	p := testenv.MustDialPusher(t, h.URL(), k)
	if p.ActivityTimeout != 1 {
		t.Fatalf("activity_timeout = %d", p.ActivityTimeout)
	}
	// A client that answers stays connected.
	for i := 0; i < 2; i++ {
		p.Expect("pusher:ping", "")
		p.Send("pusher:pong", "", map[string]any{})
	}
	// One that does not is closed with 4201 after the pong timeout.
	p.Expect("pusher:ping", "")
	if code := p.ExpectClose(); code != 4201 {
		t.Fatalf("silent client closed with %d", code)
	}
}

func TestBinaryFrameRefused(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	if err := p.WS().WriteFrame(ws.OpBinary, true, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if code := p.ExpectClose(); code != 1003 {
		t.Fatalf("binary frame closed with %d", code)
	}
}

// slowReadBuffer is the slow client's socket receive buffer: small, so
// that the buffers fill up soon, but several loopback segments (64 KiB)
// large, or the kernel's window updates would hold the client back for
// seconds once it reads again.
const slowReadBuffer = 256 << 10

func TestSlowConsumerIsCutOff(t *testing.T) {
	h := testenv.Herald(t, func(c *platform.Config) { c.Gateway.SendQueueBytes = 64 << 10 })
	slow := testenv.MustDialPusher(t, h.URL(), key)
	fast := testenv.MustDialPusher(t, h.URL(), key)
	slow.Subscribe("firehose", key, "", "")
	fast.Subscribe("firehose", key, "", "")
	_ = slow.WS().NetConn().(interface{ SetReadBuffer(int) error }).SetReadBuffer(slowReadBuffer)

	// The slow client never reads: once the kernel's socket buffers are
	// full, its queue passes 64 KiB and it is cut off, while the fast
	// client gets every message. Publishing waits for the fast client's
	// copy, so that a loaded test machine never makes it a slow consumer
	// too (64 KiB is only six of these messages).
	payload := strings.Repeat("x", 10000)
	const n = 800 // 8 MB: more than loopback socket buffers hold
	cutOff := func() bool {
		return strings.Contains(metrics(t, h), "herald_gateway_slow_consumer_closes_total 1")
	}
	for i := 0; i < n && !cutOff(); i++ {
		testenv.Trigger(t, h.URL(), appID, key, secret, "m", payload, "firehose")
		if e, _ := fast.Expect("m", "firehose"); e.Data != payload {
			t.Fatalf("fast client got a wrong message")
		}
	}
	testinfra.WaitUntil(t, "the slow consumer cut off", cutOff)
	// The client resumes reading and, as pusher-js may on its own timers,
	// keeps sending while it drains what the kernel buffers held: it must
	// then find the 4100 that tells it to back off. Had the server closed
	// its socket as soon as the close frame was queued behind that
	// backlog, the next frame the client sent would have met a closed
	// socket and reset the connection, destroying the close frame (1006).
	for {
		_, err := slow.Next()
		var closed testenv.Closed
		if errors.As(err, &closed) {
			if closed.Code != uint16(channels.PusherOverCapacity) {
				t.Fatalf("slow consumer closed with %d, want %d", closed.Code, channels.PusherOverCapacity)
			}
			break
		}
		if err != nil {
			t.Fatalf("slow consumer, reading again: %v", err)
		}
		slow.SendRaw(`{"event":"pusher:ping","data":{}}`)
	}
}

func metrics(t *testing.T, h *testenv.HeraldEnv) string {
	t.Helper()
	res, err := http.Get(h.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

func TestShutdownClosesWith4200(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	go h.Close()
	if code := p.ExpectClose(); code != 4200 {
		t.Fatalf("shutdown closed with %d", code)
	}
}
