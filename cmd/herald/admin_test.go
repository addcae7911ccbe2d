package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

const adminTestToken = "cli-test-bootstrap-token"

// adminServer serves the admin API on a fresh database and returns its URL.
func adminServer(tb testing.TB) string {
	tb.Helper()
	return adminServerWith(tb, func(*api.Config) {})
}

// adminServerWith is adminServer with the API's configuration changed by
// configure.
func adminServerWith(tb testing.TB, configure func(*api.Config)) string {
	tb.Helper()
	store, _ := testenv.OpenStore(tb, testenv.MigratedPostgres(tb))
	testinfra.Sensitive(adminTestToken)
	cfg := api.Config{Store: store, AdminToken: adminTestToken, Logger: testinfra.Logger(tb)}
	configure(&cfg)
	a, err := api.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	tb.Cleanup(srv.Close)
	return srv.URL
}

// cli runs `herald admin` against one server, with its URL and token in
// the environment.
type cli struct {
	env map[string]string
}

func newCLI(tb testing.TB) *cli {
	tb.Helper()
	return &cli{env: map[string]string{"HERALD_URL": adminServer(tb), "HERALD_ADMIN_TOKEN": adminTestToken}}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := runAdmin(context.Background(), args, func(k string) string { return c.env[k] }, &stdout, &stderr)
	return cliResult{code, stdout.String(), stderr.String()}
}

// ok runs a command that must succeed.
func (c *cli) ok(tb testing.TB, args ...string) cliResult {
	tb.Helper()
	r := c.run(args...)
	if r.code != 0 {
		tb.Fatalf("herald admin %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// okJSON runs a command with --json and decodes its output into out.
func (c *cli) okJSON(tb testing.TB, out any, args ...string) {
	tb.Helper()
	r := c.ok(tb, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
		tb.Fatalf("herald admin %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

type jsonPage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func TestAdminCLIWorkflow(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	var acct controlplane.Account
	c.okJSON(t, &acct, "accounts", "create", "--name", "Acme")
	if r := c.ok(t, "accounts", "list"); !strings.Contains(r.stdout, "NAME") || !strings.Contains(r.stdout, acct.ID) ||
		!strings.Contains(r.stdout, "Acme") {
		t.Errorf("accounts list table:\n%s", r.stdout)
	}
	if r := c.ok(t, "accounts", "get", acct.ID); !strings.Contains(r.stdout, "Acme") {
		t.Errorf("accounts get:\n%s", r.stdout)
	}

	var app controlplane.App
	c.okJSON(t, &app, "apps", "create", "--account", acct.ID, "--name", "web", "--id", "web-1",
		"--set", "client_events=true", "--set", "max_connections=5",
		"--set", "allowed_origins=https://a.test, https://b.test")
	s := app.Settings
	if app.ID != "web-1" || !s.ClientEvents || s.MaxConnections != 5 ||
		strings.Join(s.AllowedOrigins, " ") != "https://a.test https://b.test" {
		t.Fatalf("created app = %+v", app)
	}
	// Flags may follow the arguments.
	c.okJSON(t, &app, "apps", "update", "web-1", "--enabled", "false", "--set", "max_connections=9")
	c.okJSON(t, &app, "apps", "get", "web-1")
	if app.Enabled || app.Settings.MaxConnections != 9 || !app.Settings.ClientEvents || len(app.Settings.AllowedOrigins) != 2 {
		t.Errorf("after update = %+v", app)
	}
	if r := c.ok(t, "apps", "get", "web-1"); !strings.Contains(r.stdout, "settings.max_connections") {
		t.Errorf("apps get table:\n%s", r.stdout)
	}
	var apps jsonPage[controlplane.App]
	c.okJSON(t, &apps, "apps", "list", "--account", acct.ID)
	if len(apps.Items) != 1 || apps.NextCursor != nil {
		t.Errorf("apps list = %+v", apps)
	}
	for search, want := range map[string]int{"WEB": 1, "eb-": 1, "nothing": 0} {
		c.okJSON(t, &apps, "apps", "list", "--account", acct.ID, "--search", search)
		if len(apps.Items) != want {
			t.Errorf("apps list --search %s = %+v, want %d apps", search, apps, want)
		}
	}

	var k controlplane.NewKey
	c.okJSON(t, &k, "keys", "create", "web-1")
	if k.Secret == "" {
		t.Fatalf("keys create = %+v", k)
	}
	if r := c.ok(t, "keys", "create", "web-1"); !strings.Contains(r.stdout, "SECRET") || !strings.Contains(r.stderr, "only this once") {
		t.Errorf("keys create table:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	r := c.ok(t, "keys", "list", "web-1", "--limit", "1")
	if !strings.Contains(r.stdout, k.Key.Key) || strings.Contains(r.stdout, k.Secret) {
		t.Errorf("keys list:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "more: --cursor ") {
		t.Errorf("keys list --limit 1 gave no next cursor: %q", r.stderr)
	}
	c.ok(t, "keys", "revoke", "web-1", k.Key.Key)
	var keys jsonPage[controlplane.Key]
	c.okJSON(t, &keys, "keys", "list", "web-1")
	if len(keys.Items) != 2 || keys.Items[0].RevokedAt == nil {
		t.Errorf("keys after revoke = %+v", keys.Items)
	}

	var tok struct {
		Token, ID string
	}
	c.okJSON(t, &tok, "tokens", "create", "--name", "ci")
	// The new token works, given by flag over the environment's.
	r = c.ok(t, "--admin-token", tok.Token, "tokens", "list")
	if !strings.Contains(r.stdout, tok.ID) || strings.Contains(r.stdout, tok.Token) {
		t.Errorf("tokens list:\n%s", r.stdout)
	}
	c.ok(t, "tokens", "revoke", tok.ID)
	if r := c.run("--admin-token", tok.Token, "accounts", "list"); r.code != 1 || !strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("revoked token: exit %d, stderr %q", r.code, r.stderr)
	}

	var audit jsonPage[controlplane.AuditEntry]
	c.okJSON(t, &audit, "audit", "list")
	if len(audit.Items) == 0 || audit.Items[0].Action != "token.revoke" {
		t.Errorf("audit = %+v", audit.Items)
	}
	if r := c.ok(t, "audit", "list"); !strings.Contains(r.stdout, "ACTION") || !strings.Contains(r.stdout, "app.create") {
		t.Errorf("audit table:\n%s", r.stdout)
	}

	if r := c.run("accounts", "delete", acct.ID); r.code != 1 || !strings.HasPrefix(r.stderr, "herald admin: conflict") {
		t.Errorf("deleting an account with apps: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := c.ok(t, "apps", "delete", "web-1"); !strings.Contains(r.stdout, "deleted app web-1") {
		t.Errorf("apps delete: %q", r.stdout)
	}
	if r := c.ok(t, "--json", "accounts", "delete", acct.ID); r.stdout != "" {
		t.Errorf("accounts delete --json printed %q", r.stdout)
	}
}

func TestAdminCLIErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string // overrides
		code int
		want string // in stderr
	}{
		{"no command", nil, nil, 2, "missing command"},
		{"resource only", []string{"apps"}, nil, 2, "needs an action"},
		{"unknown action", []string{"apps", "frob"}, nil, 2, `unknown action "frob" of apps (one of create, delete, get, list, update)`},
		{"unknown resource", []string{"frob", "list"}, nil, 2, `unknown resource "frob" (one of accounts, apps,`},
		{"unknown action of a resource's resource", []string{"webhooks", "operator", "bogus"}, nil, 2,
			`unknown action "bogus" of webhooks operator (one of add, deliveries,`},
		{"resource's resource only", []string{"webhooks", "operator"}, nil, 2, "webhooks operator needs an action"},
		{"limit 0", []string{"accounts", "list", "--limit", "0"}, nil, 2, "-limit: want an integer from 1 to 500"},
		{"negative limit", []string{"apps", "list", "--limit", "-3"}, nil, 2, "-limit: want an integer from 1 to 500"},
		{"limit over the API's", []string{"keys", "list", "app", "--limit", "501"}, nil, 2, "-limit: want an integer from 1 to 500"},
		{"limit not a number", []string{"webhooks", "operator", "list", "--limit", "ten"}, nil, 2, "-limit: want an integer from 1 to 500"},
		{"url with a query", []string{"accounts", "list"}, map[string]string{"HERALD_URL": "http://127.0.0.1:1?x=1"}, 2,
			"no query or fragment: give the server's base URL"},
		{"url without a scheme", []string{"--url", "localhost:6001", "accounts", "list"}, nil, 2, "want http:// or https://"},
		{"missing argument", []string{"apps", "get"}, nil, 2, "takes ID"},
		{"extra argument", []string{"accounts", "list", "x"}, nil, 2, "takes no arguments"},
		{"unknown flag", []string{"accounts", "list", "--colour"}, nil, 2, "colour"},
		{"flag of another action", []string{"accounts", "get", "x", "--set", "a=b"}, nil, 2, "set"},
		{"missing name", []string{"accounts", "create"}, nil, 2, "--name is required"},
		{"missing account", []string{"apps", "create", "--name", "x"}, nil, 2, "--account is required"},
		{"unknown setting", []string{"apps", "update", "x", "--set", "colour=red"}, nil, 2, `unknown setting "colour"`},
		{"setting not an int", []string{"apps", "update", "x", "--set", "max_connections=many"}, nil, 2, "want an integer"},
		{"setting not a bool", []string{"apps", "update", "x", "--set", "client_events=maybe"}, nil, 2, "want true or false"},
		{"no key=value", []string{"apps", "update", "x", "--set", "client_events"}, nil, 2, "want key=value"},
		{"enabled not a bool", []string{"apps", "update", "x", "--enabled", "maybe"}, nil, 2, "want true or false"},
		{"nothing to update", []string{"apps", "update", "x"}, nil, 2, "nothing to change"},
		{"no token", []string{"accounts", "list"}, map[string]string{"HERALD_ADMIN_TOKEN": ""}, 2, "HERALD_ADMIN_TOKEN"},
		{"wrong token", []string{"accounts", "list"}, map[string]string{"HERALD_ADMIN_TOKEN": "nope"}, 1, "herald admin: unauthorized"},
		{"not found", []string{"apps", "get", "nope"}, nil, 1, "herald admin: not_found: app nope not found"},
		{"bad request with field", []string{"apps", "create", "--account", "acc_x", "--name", "x"}, nil, 1, "(field account_id)"},
		{"origin that never matches", []string{"apps", "update", "x", "--set", "allowed_origins=https://b.example/,*"}, nil, 1,
			"settings.allowed_origins[0] must not end with /"},
		{"server out of reach", []string{"accounts", "list"}, map[string]string{"HERALD_URL": "http://127.0.0.1:1"}, 1, "herald admin: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &cli{env: map[string]string{}}
			for k, v := range c.env {
				run.env[k] = v
			}
			for k, v := range tt.env {
				run.env[k] = v
			}
			r := run.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, want %d; stderr %q should contain %q", r.code, tt.code, r.stderr, tt.want)
			}
			if tt.code == 2 && !strings.Contains(r.stderr, "Usage: herald admin") {
				t.Errorf("usage error without the usage text:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("failure wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestAdminCLIHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		want    []string // in stdout
		notWant []string
	}{
		{"general", []string{"-h"}, []string{"Usage: herald admin", "plans    create", "Exit status", "  --url", "  --admin-token", "  --json"}, nil},
		{"help word", []string{"help"}, []string{"Usage: herald admin", "  --url"}, nil},
		{"resource", []string{"accounts", "--help"}, []string{"herald admin [flags] accounts <action>", "accounts set-plan", "  --url"},
			[]string{"plans"}},
		{"help before the resource", []string{"--json", "-h", "accounts"}, []string{"accounts set-plan"}, []string{"plans"}},
		{"help word and resource", []string{"help", "webhooks"}, []string{"webhooks create", "webhooks operator add"}, nil},
		{"resource's resource", []string{"webhooks", "operator", "-h"}, []string{"webhooks operator add"}, []string{"webhooks create"}},
		{"action", []string{"apps", "list", "-h"}, []string{"herald admin [flags] apps list [options]", "  --search string", "  --limit N", "  --url string"}, nil},
		{"plan limits", []string{"plans", "create", "--help"}, []string{"  --max-messages-per-day N", "  --enforcement", "  --id string"}, nil},
		{"settings", []string{"apps", "update", "ID", "--help"}, []string{"apps update ID [options]", "max_connections=integer",
			"client_events=true|false", "allowed_origins=comma-separated list"}, nil},
		{"arguments", []string{"webhooks", "redeliver", "-h"}, []string{"webhooks redeliver APP ID DELIVERY"}, []string{"Options:"}},
		{"exit status", []string{"webhooks", "operator", "test", "-h"}, []string{"Exits 1 when the endpoint failed the test"}, nil},
		{"command and resource", []string{"usage", "-h"}, []string{"herald admin [flags] usage [options]", "  --granularity"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAdminEnv(nil, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(r.stdout, w) {
					t.Errorf("help has %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	t.Run("unknown word", func(t *testing.T) {
		r := runAdminEnv(nil, "webhooks", "bogus", "--help")
		if r.code != 2 || !strings.Contains(r.stderr, `unknown action "bogus" of webhooks`) || r.stdout != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
