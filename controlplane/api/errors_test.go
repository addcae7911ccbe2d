package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
)

func TestEchoErrorsUseTheErrorShape(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown path", http.MethodGet, "/admin/v1/nope", http.StatusNotFound, "not_found"},
		{"unknown root", http.MethodGet, "/", http.StatusNotFound, "not_found"},
		{"trailing slash", http.MethodGet, "/admin/v1/accounts/", http.StatusNotFound, "not_found"},
		{"wrong method", http.MethodPut, "/admin/v1/accounts", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"wrong method on item", http.MethodPost, "/admin/v1/apps/x", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No token: unknown routes are 404, not 401.
			r := s.doAs(t, "", tt.method, tt.path, nil)
			r.wantError(t, tt.status, tt.code, "")
			if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	s := newServer(t, func(c *api.Config) { c.MaxBodyBytes = limit })
	big := `{"name":"` + strings.Repeat("x", limit) + `"}`

	s.do(t, http.MethodPost, "/admin/v1/accounts", big).wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
	// Without a Content-Length the limit bites while reading.
	s.do(t, http.MethodPost, "/admin/v1/accounts", struct{ *strings.Reader }{strings.NewReader(big)}).
		wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
	// A body just under the limit is read (and refused for its content).
	s.do(t, http.MethodPost, "/admin/v1/accounts", `{"name":"`+strings.Repeat("x", 300)+`"}`).
		wantError(t, http.StatusBadRequest, "bad_request", "name")
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do(t, http.MethodGet, "/admin/v1/accounts", nil)
	id := r.header.Get("X-Request-Id")
	if len(id) < 8 {
		t.Fatalf("X-Request-Id = %q", id)
	}
	if !strings.Contains(s.logs.String(), id) {
		t.Errorf("request id %s not in the request log:\n%s", id, s.logs.String())
	}
	// A proxy's id is kept; anything else is replaced.
	kept := s.raw(t, http.MethodGet, "/admin/v1/openapi.json", http.Header{"X-Request-Id": {"lb-1234.5"}}, nil)
	if kept.header.Get("X-Request-Id") != "lb-1234.5" {
		t.Errorf("proxy request id not kept: %q", kept.header.Get("X-Request-Id"))
	}
	evil := s.raw(t, http.MethodGet, "/admin/v1/openapi.json", http.Header{"X-Request-Id": {"a\" b=c"}}, nil)
	if got := evil.header.Get("X-Request-Id"); got == "a\" b=c" || got == "" {
		t.Errorf("unsafe request id answered as %q", got)
	}
}

// TestPanicIsInternalAndLogged: a bug below a handler answers 500 without
// its cause, is logged with the request id, and the server goes on.
func TestPanicIsInternalAndLogged(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config) { c.Publisher = panicPublisher{} })
	acct := s.account(t, "a")
	r := s.do(t, http.MethodPost, "/admin/v1/apps", map[string]string{"account_id": acct.ID, "name": "x"})
	e := r.wantError(t, http.StatusInternalServerError, "internal", "")
	if e.Error.Message != "internal error" || strings.Contains(string(r.body), "kaboom") {
		t.Errorf("internal error shows its cause: %s", r.body)
	}
	id := r.header.Get("X-Request-Id")
	logs := s.logs.String()
	if !strings.Contains(logs, "kaboom") || !strings.Contains(logs, id) {
		t.Errorf("internal error not logged with request id %s:\n%s", id, logs)
	}
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, nil)
}

type panicPublisher struct{}

func (panicPublisher) SyncApp(context.Context, string) error { panic("kaboom") }

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	if _, err := api.New(api.Config{}); err == nil {
		t.Error("New without a Store: no error")
	}
	// New does not call the store.
	store := struct{ controlplane.Store }{}
	if _, err := api.New(api.Config{Store: store, MaxBodyBytes: -1}); err == nil {
		t.Error("New with a negative MaxBodyBytes: no error")
	}
	if _, err := api.New(api.Config{Store: store}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}
