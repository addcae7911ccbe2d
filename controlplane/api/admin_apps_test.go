package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestCreateAppAppliesSettingsOverDefaults(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	acct := s.account(t, "a")

	app := s.app(t, acct.ID, "web", map[string]any{
		"id":       "my-app_1",
		"settings": map[string]any{"client_events": true, "max_connections": 50, "allowed_origins": []string{"https://x.test"}},
	})
	want := channels.DefaultSettings()
	want.ClientEvents, want.MaxConnections, want.AllowedOrigins = true, 50, []string{"https://x.test"}
	if app.ID != "my-app_1" || app.AccountID != acct.ID || app.Name != "web" || !app.Enabled {
		t.Errorf("app = %+v", app)
	}
	if !settingsEqual(app.Settings, want) {
		t.Errorf("settings = %+v, want %+v", app.Settings, want)
	}
	if got := s.pub.take(); !slices.Equal(got, []string{"my-app_1"}) {
		t.Errorf("SyncApp calls = %v, want [my-app_1]", got)
	}

	generated := s.app(t, acct.ID, "other", nil)
	if generated.ID == "" || !settingsEqual(generated.Settings, channels.DefaultSettings()) {
		t.Errorf("app without id and settings = %+v", generated)
	}
	var got controlplane.App
	s.do(t, http.MethodGet, "/admin/v1/apps/"+generated.ID, nil).want(t, http.StatusOK, &got)
	if got.ID != generated.ID || !settingsEqual(got.Settings, generated.Settings) {
		t.Errorf("GET = %+v, want %+v", got, generated)
	}
	r := s.do(t, http.MethodGet, "/admin/v1/apps/"+generated.ID, nil)
	if !strings.Contains(string(r.body), `"allowed_origins":[]`) {
		t.Errorf("allowed_origins should be [] not null: %s", r.body)
	}
}

func TestCreateAppErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	acct := s.account(t, "a")
	s.app(t, acct.ID, "taken", map[string]any{"id": "taken"})
	s.pub.take()
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"no account", `{"name":"x"}`, http.StatusBadRequest, "bad_request", "account_id"},
		{"unknown account", `{"account_id":"acc_nope","name":"x"}`, http.StatusBadRequest, "bad_request", "account_id"},
		{"no name", `{"account_id":"` + acct.ID + `"}`, http.StatusBadRequest, "bad_request", "name"},
		{"bad id", `{"account_id":"` + acct.ID + `","name":"x","id":"has space"}`, http.StatusBadRequest, "bad_request", "id"},
		{"duplicate id", `{"account_id":"` + acct.ID + `","name":"x","id":"taken"}`, http.StatusConflict, "conflict", ""},
		{"setting out of range", `{"account_id":"` + acct.ID + `","name":"x","settings":{"max_message_bytes":0}}`,
			http.StatusBadRequest, "bad_request", "settings.max_message_bytes"},
		{"setting of wrong type", `{"account_id":"` + acct.ID + `","name":"x","settings":{"client_events":"yes"}}`,
			http.StatusBadRequest, "bad_request", "settings.client_events"},
		{"unknown setting", `{"account_id":"` + acct.ID + `","name":"x","settings":{"colour":"red"}}`,
			http.StatusBadRequest, "bad_request", "settings.colour"},
		{"list of wrong type", `{"account_id":"` + acct.ID + `","name":"x","settings":{"allowed_origins":{}}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins"},
		{"list element of wrong type", `{"account_id":"` + acct.ID + `","name":"x","settings":{"allowed_origins":["https://a.test",1]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[1]"},
		{"origin with a trailing slash", `{"account_id":"` + acct.ID + `","name":"x","settings":{"allowed_origins":["https://a.test/"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[0]"},
		{"origin with an IPv4 host browsers rewrite", `{"account_id":"` + acct.ID + `","name":"x","settings":{"allowed_origins":["http://127.1:3000"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.do(t, http.MethodPost, "/admin/v1/apps", tt.body).wantError(t, tt.status, tt.code, tt.field)
		})
	}
	if got := s.pub.take(); len(got) != 0 {
		t.Errorf("failed creations published %v", got)
	}
}

func TestUpdateAppPatchesASubset(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", map[string]any{
		"settings": map[string]any{"client_events": true, "max_connections": 10, "allowed_origins": []string{"https://a.test"}},
	})
	s.pub.take()

	var got controlplane.App
	s.do(t, http.MethodPatch, "/admin/v1/apps/"+app.ID, map[string]any{
		"settings": map[string]any{"max_connections": 20},
	}).want(t, http.StatusOK, &got)
	want := app.Settings
	want.MaxConnections = 20
	if !settingsEqual(got.Settings, want) || got.Name != "web" || !got.Enabled {
		t.Errorf("after settings patch: %+v, want settings %+v and the rest unchanged", got, want)
	}

	s.do(t, http.MethodPatch, "/admin/v1/apps/"+app.ID, map[string]any{"name": "renamed", "enabled": false}).
		want(t, http.StatusOK, &got)
	if got.Name != "renamed" || got.Enabled || !settingsEqual(got.Settings, want) {
		t.Errorf("after name/enabled patch: %+v", got)
	}
	if !got.UpdatedAt.After(app.UpdatedAt) {
		t.Errorf("updated_at %v not after %v", got.UpdatedAt, app.UpdatedAt)
	}
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID, app.ID}) {
		t.Errorf("SyncApp calls = %v, want two for %s", calls, app.ID)
	}

	// An empty patch changes, records and publishes nothing.
	before := len(s.audit(t))
	var same controlplane.App
	s.do(t, http.MethodPatch, "/admin/v1/apps/"+app.ID, `{}`).want(t, http.StatusOK, &same)
	if same.UpdatedAt != got.UpdatedAt || len(s.audit(t)) != before || len(s.pub.take()) != 0 {
		t.Errorf("empty patch changed something: %+v", same)
	}

	var updates []controlplane.AuditEntry
	for _, e := range s.audit(t) {
		if e.Action == "app.update" && e.Target == app.ID {
			updates = append(updates, e)
		}
	}
	if len(updates) != 2 {
		t.Fatalf("app.update audit entries = %d, want 2", len(updates))
	}
	var details map[string]any
	if err := json.Unmarshal(updates[0].Details, &details); err != nil || details["name"] != "renamed" {
		t.Errorf("newest app.update details = %s (%v), want the patch", updates[0].Details, err)
	}
}

func TestUpdateAppErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.pub.take()
	tests := []struct {
		name   string
		id     string
		body   string
		status int
		code   string
		field  string
	}{
		{"unknown app", "nope", `{"name":"x"}`, http.StatusNotFound, "not_found", ""},
		{"empty name", app.ID, `{"name":""}`, http.StatusBadRequest, "bad_request", "name"},
		{"enabled not a bool", app.ID, `{"enabled":"no"}`, http.StatusBadRequest, "bad_request", "enabled"},
		{"setting out of range", app.ID, `{"settings":{"activity_timeout_s":0}}`, http.StatusBadRequest, "bad_request", "settings.activity_timeout_s"},
		{"unknown field", app.ID, `{"plan":"gold"}`, http.StatusBadRequest, "bad_request", "plan"},
		{"unknown setting", app.ID, `{"settings":{"bogus":1}}`, http.StatusBadRequest, "bad_request", "settings.bogus"},
		{"origin element of wrong type", app.ID, `{"settings":{"allowed_origins":["https://a.example",3]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[1]"},
		// The prober's: each could never match an Origin header.
		{"origin with a trailing slash", app.ID, `{"settings":{"allowed_origins":["https://app.example/","*","bad origin"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[0]"},
		{"wildcard origin", app.ID, `{"settings":{"allowed_origins":["https://app.example","*"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[1]"},
		{"free text origin", app.ID, `{"settings":{"allowed_origins":["https://app.example","http://localhost:3000","bad origin"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[2]"},
		{"hexadecimal IPv4 origin", app.ID, `{"settings":{"allowed_origins":["http://127.0.0.1","http://0x7f.0.0.1"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[1]"},
		{"origin of an unknown app", "nope", `{"settings":{"allowed_origins":["*"]}}`,
			http.StatusBadRequest, "bad_request", "settings.allowed_origins[0]"},
		{"no body", app.ID, ``, http.StatusBadRequest, "bad_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.do(t, http.MethodPatch, "/admin/v1/apps/"+tt.id, tt.body).wantError(t, tt.status, tt.code, tt.field)
		})
	}
	var got controlplane.App
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID, nil).want(t, http.StatusOK, &got)
	if got.Name != app.Name || !settingsEqual(got.Settings, app.Settings) {
		t.Errorf("failed patches changed the app: %+v", got)
	}
	if calls := s.pub.take(); len(calls) != 0 {
		t.Errorf("failed patches published %v", calls)
	}
}

func TestListAppsFiltersByAccount(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a, b := s.account(t, "a"), s.account(t, "b")
	a1 := s.app(t, a.ID, "a1", nil)
	a2 := s.app(t, a.ID, "a2", nil)
	b1 := s.app(t, b.ID, "b1", nil)

	ids := func(query string) []string {
		var l list[controlplane.App]
		s.do(t, http.MethodGet, "/admin/v1/apps"+query, nil).want(t, http.StatusOK, &l)
		var out []string
		for _, app := range l.Items {
			out = append(out, app.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...string) []string { slices.Sort(v); return v }
	if got := ids("?account_id=" + a.ID); !slices.Equal(got, sorted(a1.ID, a2.ID)) {
		t.Errorf("apps of a = %v", got)
	}
	if got := ids(""); !slices.Equal(got, sorted(a1.ID, a2.ID, b1.ID)) {
		t.Errorf("all apps = %v", got)
	}
	if got := ids("?account_id=acc_unknown"); len(got) != 0 {
		t.Errorf("apps of an unknown account = %v", got)
	}
}

func TestDeleteAppPublishesAndRemovesKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.key(t, app.ID)
	s.pub.take()

	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID, nil).want(t, http.StatusNoContent, nil)
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID}) {
		t.Errorf("SyncApp calls = %v, want [%s]", calls, app.ID)
	}
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID+"/keys", nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	if calls := s.pub.take(); len(calls) != 0 {
		t.Errorf("failed delete published %v", calls)
	}
}

// TestSyncFailureDoesNotFailTheChange: the change is in Postgres and the
// periodic reconcile publishes it, so the caller sees success.
func TestSyncFailureDoesNotFailTheChange(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.pub.fail(errors.New("nats is down"))
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	k := s.key(t, app.ID)
	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID+"/keys/"+k.Key.Key, nil).want(t, http.StatusNoContent, nil)
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID, app.ID, app.ID}) {
		t.Errorf("SyncApp calls = %v", calls)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "nats is down") || !strings.Contains(logs, app.ID) {
		t.Errorf("sync failure not logged with the app id:\n%s", logs)
	}
}

func settingsEqual(a, b channels.Settings) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
