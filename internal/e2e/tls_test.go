package e2e_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestTLSListener serves dev mode with --tls-cert/--tls-key from a
// self-signed certificate: a WSS client gets the Pusher handshake and an
// event published over HTTPS, and plain HTTP to the same port fails.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	certs := testenv.SelfSignedTLS(t)
	stdout := &testinfra.LogBuffer{}
	h := testenv.Herald(t, func(c *platform.Config) {
		c.TLS = platform.TLSConfig{CertFile: certs.CertFile, KeyFile: certs.KeyFile}
		c.Stdout = stdout
	})
	if want := "https://" + h.Addr(); h.URL() != want {
		t.Fatalf("URL = %q, want %q", h.URL(), want)
	}
	// The platform is ready (what Herald waited for) just before it prints
	// the listening line and the banner.
	listening := "herald: listening on https://" + h.Addr()
	testinfra.WaitUntil(t, "the listening line", func() bool { return strings.Contains(stdout.String(), listening) })
	if !strings.Contains(stdout.String(), "wss://"+h.Addr()+"/app/") {
		t.Fatalf("the banner does not show the wss:// endpoint:\n%s", stdout)
	}

	p, err := testenv.DialPusherTLS(t, h.URL(), testenv.AppKey, certs.ClientConfig())
	if err != nil {
		t.Fatalf("WSS connect: %v", err)
	}
	if p.SocketID == "" {
		t.Fatal("no socket id in pusher:connection_established")
	}
	if e := p.Subscribe("tls-news", testenv.AppKey, testenv.AppSecret, ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe over WSS: %s %s", e.Event, e.Data)
	}

	// An SSE stream over HTTPS, open before the publish.
	sse, err := certs.HTTPClient().Get(h.URL() + "/sse?key=" + testenv.AppKey + "&channel=tls-news")
	if err != nil {
		t.Fatalf("SSE over HTTPS: %v", err)
	}
	defer sse.Body.Close()
	if sse.StatusCode != http.StatusOK {
		t.Fatalf("SSE over HTTPS = %d", sse.StatusCode)
	}

	body, _ := json.Marshal(map[string]any{"name": "greeting", "data": `{"over":"https"}`, "channels": []string{"tls-news"}})
	code, resp := testenv.SignedRequestWith(t, certs.HTTPClient(), "POST", h.URL(), "/apps/"+testenv.AppID+"/events",
		testenv.AppKey, testenv.AppSecret, nil, body)
	if code != http.StatusOK {
		t.Fatalf("HTTPS publish = %d: %s", code, resp)
	}
	if e, _ := p.Expect("greeting", "tls-news"); e.Data != `{"over":"https"}` {
		t.Fatalf("delivered data %q", e.Data)
	}
	lines := bufio.NewScanner(sse.Body)
	var streamed bool
	for !streamed && lines.Scan() {
		streamed = lines.Text() == "event: greeting"
	}
	if !streamed {
		t.Fatalf("the SSE stream over HTTPS ended without the event: %v", lines.Err())
	}
	// Many frames through the bridge in both directions keep their order.
	for range 20 {
		p.Send("pusher:ping", "", map[string]any{})
		p.Expect("pusher:pong", "")
	}

	plain := "http://" + h.Addr()
	if res, err := http.Get(plain + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP to the TLS port was served")
		}
	}
	_, err = wstest.Dial(t.Context(), "ws://"+h.Addr()+"/app/"+testenv.AppKey+"?protocol=7", nil)
	var hs *wstest.HandshakeError
	if err == nil || (errors.As(err, &hs) && hs.StatusCode == http.StatusSwitchingProtocols) {
		t.Fatalf("plain ws:// to the TLS port upgraded: %v", err)
	}
}

// TestTLSNeedsBothFiles: a certificate without its key (or the reverse)
// is a configuration error, not a plain-HTTP start.
func TestTLSNeedsBothFiles(t *testing.T) {
	t.Parallel()
	for _, c := range []platform.TLSConfig{{CertFile: "cert.pem"}, {KeyFile: "key.pem"}} {
		if _, err := platform.New(platform.Config{Mode: platform.ModeDev, TLS: c}); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
}
