package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// syncDeadline is how soon an admin change must reach the config KV.
const syncDeadline = time.Second

func appsKV(t *testing.T, h *testenv.HeraldEnv) jetstream.KeyValue {
	t.Helper()
	return bucketKV(t, h, appconfig.Bucket)
}

// bucketKV opens the KV bucket of h's NATS on a connection of the test's.
func bucketKV(t *testing.T, h *testenv.HeraldEnv, bucket string) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// waitKV polls the app's KV entry until ok accepts it or the deadline
// passes; it returns how long it took.
func waitKV(t *testing.T, kv jetstream.KeyValue, appID string, ok func(*channels.AppConfig, bool) bool) time.Duration {
	t.Helper()
	start := time.Now()
	testinfra.WaitUntilWithin(t, "the KV entry of "+appID, syncDeadline, func() bool {
		e, err := kv.Get(context.Background(), appID)
		if err != nil {
			return ok(nil, false)
		}
		cfg := new(channels.AppConfig)
		if err := json.Unmarshal(e.Value(), cfg); err != nil {
			t.Fatalf("decode KV entry: %v", err)
		}
		return ok(cfg, true)
	})
	return time.Since(start)
}

func TestDevServesOpsEndpoints(t *testing.T) {
	h := testenv.Herald(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/admin/v1/openapi.json"} {
		res, err := http.Get(h.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", path, res.StatusCode, b)
		}
	}
}

func TestAdminChangesReachConfigKV(t *testing.T) {
	h := testenv.Herald(t)
	kv := appsKV(t, h)

	// The seeded demo app is published with its key and client events on.
	waitKV(t, kv, "app-id", func(c *channels.AppConfig, found bool) bool {
		if !found {
			return false
		}
		_, hasKey := c.Key("app-key")
		return hasKey && c.Settings.ClientEvents
	})

	var acc struct{ ID string }
	if code := h.Admin(t, "POST", "/admin/v1/accounts", map[string]any{"name": "Acme"}, &acc); code != 201 {
		t.Fatalf("create account = %d", code)
	}
	var app struct{ ID string }
	code := h.Admin(t, "POST", "/admin/v1/apps", map[string]any{
		"account_id": acc.ID, "name": "Chat", "id": "chat-1",
		"settings": map[string]any{"max_connections": 7},
	}, &app)
	if code != 201 || app.ID != "chat-1" {
		t.Fatalf("create app = %d %+v", code, app)
	}
	waitKV(t, kv, "chat-1", func(c *channels.AppConfig, found bool) bool {
		return found && c.Enabled && c.Settings.MaxConnections == 7 && len(c.Keys) == 0
	})
	var dup struct {
		Error struct{ Code string } `json:"error"`
	}
	if code := h.Admin(t, "POST", "/admin/v1/apps", map[string]any{"account_id": acc.ID, "name": "Again", "id": "chat-1"}, &dup); code != 409 || dup.Error.Code != "conflict" {
		t.Fatalf("duplicate app id = %d %+v", code, dup)
	}

	var key struct{ Key, Secret string }
	if code := h.Admin(t, "POST", "/admin/v1/apps/chat-1/keys", map[string]any{}, &key); code != 201 || key.Secret == "" {
		t.Fatalf("create key = %d", code)
	}
	took := waitKV(t, kv, "chat-1", func(c *channels.AppConfig, found bool) bool {
		if !found {
			return false
		}
		k, ok := c.Key(key.Key)
		return ok && !bytes.Contains(k.SealedSecret, []byte(key.Secret))
	})
	t.Logf("new key reached KV in %s", took)

	if code := h.Admin(t, "DELETE", "/admin/v1/apps/chat-1/keys/"+key.Key, nil, nil); code != 204 {
		t.Fatalf("revoke key = %d", code)
	}
	took = waitKV(t, kv, "chat-1", func(c *channels.AppConfig, found bool) bool {
		if !found {
			return false
		}
		_, ok := c.Key(key.Key)
		return !ok
	})
	t.Logf("revoked key left KV in %s", took)

	if code := h.Admin(t, "PATCH", "/admin/v1/apps/chat-1", map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("disable app = %d", code)
	}
	waitKV(t, kv, "chat-1", func(c *channels.AppConfig, found bool) bool { return found && !c.Enabled })

	if code := h.Admin(t, "DELETE", "/admin/v1/apps/chat-1", nil, nil); code != 204 {
		t.Fatalf("delete app = %d", code)
	}
	waitKV(t, kv, "chat-1", func(_ *channels.AppConfig, found bool) bool { return !found })
}

func TestAdminErrorsHaveOneShape(t *testing.T) {
	h := testenv.Herald(t)
	cases := []struct {
		name, method, path string
		body               any
		token              string
		status             int
		code               string
	}{
		{"no token", "GET", "/admin/v1/apps", nil, "-", 401, "unauthorized"},
		{"wrong token", "GET", "/admin/v1/apps", nil, "hat_wrong", 401, "unauthorized"},
		{"unknown app", "GET", "/admin/v1/apps/nope", nil, "", 404, "not_found"},
		{"unknown field", "POST", "/admin/v1/accounts", map[string]any{"name": "x", "color": "red"}, "", 400, "bad_request"},
		{"name too long", "POST", "/admin/v1/accounts", map[string]any{"name": strings.Repeat("n", 201)}, "", 400, "bad_request"},
		{"bad app id", "POST", "/admin/v1/apps", map[string]any{"account_id": "x", "name": "x", "id": "no spaces"}, "", 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rd io.Reader
			if c.body != nil {
				b, _ := json.Marshal(c.body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(c.method, h.URL()+c.path, rd)
			switch c.token {
			case "":
				req.Header.Set("Authorization", "Bearer "+h.AdminToken())
			case "-":
			default:
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if body.Error.Code == "" || body.Error.Message == "" {
				t.Fatalf("error body lacks code or message: %+v", body)
			}
			if res.StatusCode != c.status || body.Error.Code != c.code {
				t.Fatalf("got %d %q, want %d %q (%s)", res.StatusCode, body.Error.Code, c.status, c.code, body.Error.Message)
			}
		})
	}
}
