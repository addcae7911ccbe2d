package adminclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

const bootstrapToken = "client-test-bootstrap-token"

// newAPI serves the admin API on a fresh database and returns its URL.
func newAPI(tb testing.TB) string {
	tb.Helper()
	store, _ := testenv.OpenStore(tb, testenv.MigratedPostgres(tb))
	a, err := api.New(api.Config{Store: store, AdminToken: bootstrapToken})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	tb.Cleanup(srv.Close)
	return srv.URL
}

func TestClientCoversTheAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := newAPI(t)
	// A trailing slash in the base URL is harmless.
	c := adminclient.New(base+"/", bootstrapToken, nil)

	acct, err := c.CreateAccount(ctx, "Acme")
	must(t, err)
	got, err := c.GetAccount(ctx, acct.ID)
	must(t, err)
	if got != acct {
		t.Errorf("GetAccount = %+v, want %+v", got, acct)
	}
	accounts, err := c.ListAccounts(ctx, 0, "")
	must(t, err)
	if len(accounts.Items) != 1 || accounts.NextCursor != "" {
		t.Errorf("ListAccounts = %+v", accounts)
	}

	max := 7
	app, err := c.CreateApp(ctx, adminclient.NewApp{AccountID: acct.ID, Name: "web", ID: "web-1",
		Settings: &channels.SettingsPatch{MaxConnections: &max}})
	must(t, err)
	if app.ID != "web-1" || app.Settings.MaxConnections != 7 {
		t.Errorf("CreateApp = %+v", app)
	}
	off, name := false, "renamed"
	app, err = c.UpdateApp(ctx, app.ID, adminclient.Patch{Name: &name, Enabled: &off})
	must(t, err)
	if app.Name != name || app.Enabled || app.Settings.MaxConnections != 7 {
		t.Errorf("UpdateApp = %+v", app)
	}
	if got, err := c.GetApp(ctx, app.ID); err != nil || got.Name != name {
		t.Errorf("GetApp = %+v, %v", got, err)
	}
	apps, err := c.ListApps(ctx, controlplane.AppFilter{AccountID: acct.ID}, 10, "")
	must(t, err)
	if len(apps.Items) != 1 {
		t.Errorf("ListApps = %+v", apps)
	}

	k, err := c.CreateKey(ctx, app.ID)
	must(t, err)
	imported, err := c.ImportKey(ctx, app.ID, "imported-key", "imported-secret")
	must(t, err)
	if k.Secret == "" || imported.Key.Key != "imported-key" || imported.Secret != "imported-secret" {
		t.Errorf("keys = %+v, %+v", k, imported)
	}
	keys, err := c.ListKeys(ctx, app.ID, 1, "")
	must(t, err)
	if len(keys.Items) != 1 || keys.NextCursor == "" {
		t.Fatalf("first key page = %+v", keys)
	}
	keys, err = c.ListKeys(ctx, app.ID, 1, keys.NextCursor)
	must(t, err)
	if len(keys.Items) != 1 || keys.NextCursor != "" {
		t.Errorf("second key page = %+v", keys)
	}
	must(t, c.RevokeKey(ctx, app.ID, k.Key.Key))

	first, err := c.RotateSigningKey(ctx)
	must(t, err)
	second, err := c.RotateSigningKey(ctx)
	must(t, err)
	signing, err := c.ListSigningKeys(ctx, 1, "")
	must(t, err)
	if len(signing.Items) != 1 || signing.Items[0].KID != second.KID || !signing.Items[0].Active || signing.NextCursor == "" {
		t.Errorf("ListSigningKeys = %+v", signing)
	}
	must(t, c.RetireSigningKey(ctx, first.KID))

	tok, err := c.CreateToken(ctx, "ci")
	must(t, err)
	if tok.Token == "" || tok.ID == "" || tok.Name != "ci" {
		t.Errorf("CreateToken = %+v", tok)
	}
	// The new token works on its own.
	byToken := adminclient.New(base, tok.Token, nil)
	tokens, err := byToken.ListTokens(ctx, 0, "")
	must(t, err)
	if len(tokens.Items) != 1 {
		t.Errorf("ListTokens = %+v", tokens)
	}
	must(t, byToken.RevokeToken(ctx, tok.ID))

	audit, err := c.ListAudit(ctx, 2, "")
	must(t, err)
	if len(audit.Items) != 2 || audit.Items[0].Action != "token.revoke" || audit.Items[0].Actor != tok.ID {
		t.Errorf("ListAudit = %+v", audit.Items)
	}

	q := adminclient.UsageQuery{Granularity: "day", From: "2026-01-01T00:00:00Z", To: "2026-01-03T00:00:00Z"}
	usage, err := c.AppUsage(ctx, app.ID, q)
	must(t, err)
	if usage.Granularity != "day" || usage.Items == nil || len(usage.Items) != 0 {
		t.Errorf("AppUsage = %+v", usage)
	}
	usage, err = c.AccountUsage(ctx, acct.ID, adminclient.UsageQuery{})
	must(t, err)
	if usage.Granularity != "hour" || len(usage.Items) != 0 {
		t.Errorf("AccountUsage = %+v", usage)
	}
	// Without a message stream, reconciliation is unavailable.
	var apiErr *adminclient.APIError
	if _, err := c.ReconcileAppUsage(ctx, app.ID, q); !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Errorf("ReconcileAppUsage = %v", err)
	}

	must(t, c.DeleteApp(ctx, app.ID))
	must(t, c.DeleteAccount(ctx, acct.ID))

	doc, err := adminclient.New(base, "", nil).OpenAPI(ctx)
	must(t, err)
	var d struct{ OpenAPI string }
	if err := json.Unmarshal(doc, &d); err != nil || d.OpenAPI == "" {
		t.Errorf("OpenAPI = %.100s (%v)", doc, err)
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := newAPI(t)
	c := adminclient.New(base, bootstrapToken, nil)
	acct, err := c.CreateAccount(ctx, "a")
	must(t, err)

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
		field  string
	}{
		{"not found", func() error { _, err := c.GetApp(ctx, "nope"); return err }, 404, "not_found", ""},
		{"bad field", func() error {
			_, err := c.CreateApp(ctx, adminclient.NewApp{AccountID: acct.ID, Name: ""})
			return err
		}, 400, "bad_request", "name"},
		{"unauthorized", func() error {
			_, err := adminclient.New(base, "wrong", nil).ListAccounts(ctx, 0, "")
			return err
		}, 401, "unauthorized", ""},
		{"path is escaped", func() error { _, err := c.GetAccount(ctx, "../apps"); return err }, 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae *adminclient.APIError
			if err := tt.call(); !errors.As(err, &ae) {
				t.Fatalf("error = %v (%T), want *APIError", err, err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || ae.Field != tt.field || ae.Message == "" {
				t.Errorf("APIError = %+v", ae)
			}
		})
	}
}

func TestErrorsOutsideTheShape(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway from the proxy", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	_, err := adminclient.New(srv.URL, "t", nil).ListAccounts(context.Background(), 0, "")
	var ae *adminclient.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "" ||
		ae.Message != "bad gateway from the proxy" {
		t.Fatalf("error = %#v", err)
	}
	if ae.Error() != "HTTP 502: bad gateway from the proxy" {
		t.Errorf("Error() = %q", ae.Error())
	}

	// Nothing listening: a transport error, not an APIError.
	srv.Close()
	_, err = adminclient.New(srv.URL, "t", nil).ListAccounts(context.Background(), 0, "")
	if err == nil || errors.As(err, &ae) {
		t.Errorf("error with no server = %v", err)
	}
}

// TestAnswersNotFromTheAPI: an answer that is not JSON, such as the
// console's page when the base URL is wrong, is a NotAPIError naming its
// status and content type, not a JSON syntax error or a page of HTML.
func TestAnswersNotFromTheAPI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, contentType string
		status            int
		body              string
		want              string // the error's text, whole
	}{
		{"page with 200", "text/html; charset=utf-8", http.StatusOK, "<!doctype html>",
			"GET /admin/v1/accounts: the answer (200 OK, text/html; charset=utf-8) is not JSON from Herald's admin API"},
		{"page with 404", "text/html", http.StatusNotFound, "<html>not here</html>",
			"the answer (404 Not Found, text/html) is not JSON from Herald's admin API"},
		{"no content type", "", http.StatusOK, "{}",
			"GET /admin/v1/accounts: the answer (200 OK, no content type) is not JSON from Herald's admin API"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = []string{tc.contentType}
				if tc.contentType == "" {
					w.Header()["Content-Type"] = nil // no sniffing either
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			_, err := adminclient.New(srv.URL, "t", nil).ListAccounts(context.Background(), 0, "")
			var na *adminclient.NotAPIError
			if !errors.As(err, &na) || err.Error() != tc.want {
				t.Fatalf("error = %v (%T), want %q", err, err, tc.want)
			}
		})
	}
}

func TestPageJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		page adminclient.Page[controlplane.Account]
		want string
	}{
		{adminclient.Page[controlplane.Account]{}, `{"items":[],"next_cursor":null}`},
		{adminclient.Page[controlplane.Account]{NextCursor: "abc"}, `{"items":[],"next_cursor":"abc"}`},
	} {
		b, err := json.Marshal(tt.page)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal = %s (%v), want %s", b, err, tt.want)
		}
		var back adminclient.Page[controlplane.Account]
		if err := json.Unmarshal(b, &back); err != nil || back.NextCursor != tt.page.NextCursor || back.Items == nil {
			t.Errorf("round trip = %+v (%v)", back, err)
		}
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
