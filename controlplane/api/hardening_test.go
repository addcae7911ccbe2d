package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

// TestSecretsNeverListedOrLogged: key secrets and admin tokens appear in
// the one answer that creates them and nowhere else: not in lists, not in
// the audit log, not in the server's logs (at debug level), nor does the
// bootstrap token.
func TestSecretsNeverListedOrLogged(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	generated := s.key(t, app.ID)
	var imported controlplane.NewKey
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/keys",
		map[string]string{"key": "imported", "secret": "imported-secret-0123"}).want(t, http.StatusCreated, &imported)
	var tok createdToken
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{"name":"t"}`).want(t, http.StatusCreated, &tok)
	// Use the stored token, and fail with a wrong one, so both pass
	// through the logs' reach.
	s.doAs(t, tok.Token, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, nil)
	s.doAs(t, tok.Token+"x", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID+"/keys/"+generated.Key.Key, nil).want(t, http.StatusNoContent, nil)

	secrets := map[string]string{
		"generated key secret": generated.Secret,
		"imported key secret":  imported.Secret,
		"admin token":          tok.Token,
		"bootstrap token":      bootstrapToken,
	}
	answers := map[string]string{}
	for _, p := range []string{
		"/admin/v1/apps/" + app.ID + "/keys", "/admin/v1/tokens", "/admin/v1/audit?limit=500",
		"/admin/v1/apps/" + app.ID, "/admin/v1/accounts",
	} {
		r := s.do(t, http.MethodGet, p, nil)
		r.want(t, http.StatusOK, nil)
		answers[p] = string(r.body)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"http request"`) {
		t.Fatalf("no request log lines, so the check below proves nothing:\n%s", logs)
	}
	for what, secret := range secrets {
		for p, body := range answers {
			if strings.Contains(body, secret) {
				t.Errorf("%s appears in GET %s: %s", what, p, body)
			}
		}
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the logs:\n%s", what, logs)
		}
	}
	if strings.Contains(strings.ToLower(logs), "authorization") || strings.Contains(logs, "Bearer") {
		t.Errorf("the logs mention the Authorization header:\n%s", logs)
	}
}
