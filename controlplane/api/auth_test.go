package api_test

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/authguard"
)

// createdToken is the answer of POST /admin/v1/tokens.
type createdToken struct {
	Token string `json:"token"`
	controlplane.AdminToken
}

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var live, revoked createdToken
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{"name":"ci"}`).want(t, http.StatusCreated, &live)
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{"name":"old"}`).want(t, http.StatusCreated, &revoked)
	s.do(t, http.MethodDelete, "/admin/v1/tokens/"+revoked.ID, nil).want(t, http.StatusNoContent, nil)

	tests := []struct {
		name   string
		header string // Authorization; "" sends none
		status int
	}{
		{"none", "", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"other scheme", "Basic " + bootstrapToken, http.StatusUnauthorized},
		{"wrong token", "Bearer not-the-token", http.StatusUnauthorized},
		{"bootstrap prefix", "Bearer " + bootstrapToken[:10], http.StatusUnauthorized},
		{"bootstrap plus one", "Bearer " + bootstrapToken + "x", http.StatusUnauthorized},
		{"huge token", "Bearer " + strings.Repeat("a", 4096), http.StatusUnauthorized},
		{"revoked token", "Bearer " + revoked.Token, http.StatusUnauthorized},
		{"bootstrap", "Bearer " + bootstrapToken, http.StatusOK},
		{"scheme in lower case", "bearer " + bootstrapToken, http.StatusOK},
		{"stored token", "Bearer " + live.Token, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			r := s.raw(t, http.MethodGet, "/admin/v1/accounts", h, nil)
			if tt.status == http.StatusOK {
				r.want(t, http.StatusOK, nil)
				return
			}
			r.wantError(t, http.StatusUnauthorized, "unauthorized", "")
			if got := r.header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
		})
	}

	// A stored token's changes are recorded under its id.
	var acct controlplane.Account
	s.doAs(t, live.Token, http.MethodPost, "/admin/v1/accounts", `{"name":"by ci"}`).want(t, http.StatusCreated, &acct)
	entries := s.audit(t)
	i := slices.IndexFunc(entries, func(e controlplane.AuditEntry) bool { return e.Target == acct.ID })
	if i < 0 || entries[i].Actor != live.ID || entries[i].Action != "account.create" {
		t.Errorf("audit entry of the account = %+v, want actor %s", entries, live.ID)
	}

	// A token can revoke itself, and is refused from then on.
	s.doAs(t, live.Token, http.MethodDelete, "/admin/v1/tokens/"+live.ID, nil).want(t, http.StatusNoContent, nil)
	s.doAs(t, live.Token, http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

func TestNoBootstrapTokenAcceptsOnlyStoredTokens(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) { c.AdminToken = "" })
	for _, tok := range []string{"", "x"} {
		s.doAs(t, tok, http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	}
	// The empty configured token must not match an empty presented one.
	s.raw(t, http.MethodGet, "/admin/v1/accounts", http.Header{"Authorization": {"Bearer"}}, nil).
		wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

// guardedServer starts an API whose auth guard counts loopback clients
// (the test's), with a burst of burst failures and a clock the test moves.
func guardedServer(t *testing.T, burst int) (*server, *atomic.Int64) {
	t.Helper()
	// The server reads the clock on its own goroutines.
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	guard, err := authguard.New(authguard.Config{Rate: 1, Burst: burst, Loopback: true,
		Now: func() time.Time { return time.Unix(0, now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, func(c *api.Config) { c.AuthGuard = guard }), &now
}

func TestAuthFailuresAreThrottled(t *testing.T) {
	t.Parallel()
	s, now := guardedServer(t, 3)
	// Requests without a token guess nothing and are not counted.
	for range 5 {
		s.doAs(t, "", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	}
	for range 3 {
		s.doAs(t, "guess", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	}
	// Over the limit even the right token waits: answering it would let
	// guesses go on.
	r := s.do(t, http.MethodGet, "/admin/v1/accounts", nil)
	r.wantError(t, http.StatusTooManyRequests, "rate_limited", "")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	// The OpenAPI document needs no token and is not limited; a request
	// without a token presents nothing to refuse unchecked.
	s.doAs(t, "", http.MethodGet, "/admin/v1/openapi.json", nil).want(t, http.StatusOK, nil)
	s.doAs(t, "", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	// Once a token has come back the right token is served, and a
	// success takes nothing: it can be repeated.
	now.Add(int64(time.Second))
	for range 3 {
		s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, nil)
	}
	s.doAs(t, "guess", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusTooManyRequests, "rate_limited", "")
}

func TestAuthFailureThrottleSparesLoopbackByDefault(t *testing.T) {
	t.Parallel()
	guard, err := authguard.New(authguard.Config{Rate: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, func(c *api.Config) { c.AuthGuard = guard })
	for range 5 {
		s.doAs(t, "guess", http.MethodGet, "/admin/v1/accounts", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	}
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, nil)
}
