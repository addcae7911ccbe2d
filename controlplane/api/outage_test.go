package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestPostgresOutage stops the database under a running API: stored-token
// authentication and every route answer 5xx in the error shape without
// showing the cause, and the process keeps serving.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := testinfra.NewPostgresCluster(t)
	url := cluster.URL(pgcluster.DefaultDatabase)
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	s := newServerAt(t, url)
	var tok createdToken
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{"name":"t"}`).want(t, http.StatusCreated, &tok)
	acct := s.account(t, "a")

	if err := cluster.Stop(context.Background()); err != nil {
		t.Fatalf("stop postgres: %v", err)
	}
	requests := []struct{ method, path, body string }{
		{http.MethodGet, "/admin/v1/accounts", ""},
		{http.MethodGet, "/admin/v1/accounts/" + acct.ID, ""},
		{http.MethodPost, "/admin/v1/accounts", `{"name":"b"}`},
		{http.MethodPost, "/admin/v1/apps", `{"account_id":"` + acct.ID + `","name":"x"}`},
		{http.MethodGet, "/admin/v1/audit", ""},
	}
	for _, rq := range requests {
		var body any
		if rq.body != "" {
			body = rq.body
		}
		wantOutage(t, s.do(t, rq.method, rq.path, body))
	}
	// A stored token cannot be checked: that is the server's failure,
	// not the caller's, so it is not a 401.
	wantOutage(t, s.doAs(t, tok.Token, http.MethodGet, "/admin/v1/accounts", nil))

	// Once the pool has dropped the connections the shutdown broke, an
	// unreachable database is reported as 503, which callers may retry.
	// Each broken connection fails one request, so the pool size bounds
	// the attempts.
	for i := 0; ; i++ {
		r := s.do(t, http.MethodGet, "/admin/v1/accounts", nil)
		if r.status == http.StatusServiceUnavailable {
			r.wantError(t, http.StatusServiceUnavailable, "unavailable", "")
			break
		}
		if i == maxOutageAttempts {
			t.Fatalf("no 503 after %d requests; last: %d %s", i, r.status, r.body)
		}
	}
	s.doAs(t, "", http.MethodGet, "/admin/v1/openapi.json", nil).want(t, http.StatusOK, nil)
}

// maxOutageAttempts exceeds pgxpool's default maximum of connections.
const maxOutageAttempts = 64

// wantOutage accepts 500 or 503 in the error shape, without the cause.
func wantOutage(tb testing.TB, r response) {
	tb.Helper()
	switch r.status {
	case http.StatusServiceUnavailable:
		r.wantError(tb, r.status, "unavailable", "")
	case http.StatusInternalServerError:
		if e := r.wantError(tb, r.status, "internal", ""); e.Error.Message != "internal error" {
			tb.Errorf("outage shows its cause: %s", r.body)
		}
	default:
		tb.Fatalf("status during an outage = %d, want 500 or 503; %s", r.status, r.body)
	}
}
