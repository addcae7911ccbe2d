package herald_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
)

func TestMain(m *testing.M) { os.Exit(heraldtest.Main(m)) }

// wait bounds each wait of the integration tests for something the server
// does asynchronously (a delivery, a webhook, a plan reaching the edge).
const wait = 20 * time.Second

// poll is how often eventually checks.
const poll = 50 * time.Millisecond

// testApp is an app of its own on the package's shared herald dev, with a
// client for it.
type testApp struct {
	srv    *heraldtest.Server
	app    heraldtest.App
	client *herald.Client
}

// newApp creates an app on the shared server (settings as the admin API
// takes them, nil for the defaults) and a client with cfg's other fields.
func newApp(t *testing.T, settings map[string]any, cfg herald.Config) *testApp {
	t.Helper()
	srv := heraldtest.Shared(t)
	app, err := srv.NewApp(settings)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AppID, cfg.Key, cfg.Secret, cfg.BaseURL = app.ID, app.Key, app.Secret, srv.URL
	c, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{srv: srv, app: app, client: c}
}

// dial connects a Pusher client to the app (query: extra parameters).
func (a *testApp) dial(t *testing.T, query string) *heraldtest.Pusher {
	t.Helper()
	p, err := heraldtest.DialPusher(ctx(t), a.srv.URL, a.app.Key, query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// ctx is a context that ends with the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*wait)
	t.Cleanup(cancel)
	return c
}

// eventually polls cond until it holds or wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(poll)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// isPusherError says err is a pusher:error event the server sent before
// closing.
func isPusherError(err error) bool { return strings.Contains(err.Error(), "pusher:error") }
