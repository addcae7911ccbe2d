package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testinfra"
)

// fuzzRoutes are the admin routes that take a request body. "{id}" is
// the fixture app's id, or the fuzzed one.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "/admin/v1/accounts"},
	{http.MethodPost, "/admin/v1/apps"},
	{http.MethodPatch, "/admin/v1/apps/{id}"},
	{http.MethodPost, "/admin/v1/apps/{id}/keys"},
	{http.MethodPost, "/admin/v1/tokens"},
}

// Fixtures of FuzzAdminRoutes: an app that "{id}" names, and a
// placeholder that bodies may hold for the id of its account, so that
// mutated app creations can succeed.
const (
	fuzzAppID          = "fuzz-app"
	accountPlaceholder = "$ACCOUNT"
)

// FuzzAdminRoutes sends mutated bodies to every admin route that takes
// one (route picks it, modulo their number), on a real database, and fails
// on any 5xx: whatever a caller sends is done or refused with a 4xx. id,
// when not empty, stands for the fixture app's id in the path. The seed
// corpus is in testdata/fuzz/FuzzAdminRoutes.
func FuzzAdminRoutes(f *testing.F) {
	// Warnings and errors only: the server logs a line per request at
	// debug level, which thousands of executions need not keep.
	logs := &testinfra.LogBuffer{}
	s := newServer(f, func(c *api.Config) {
		c.Publisher, c.KeyPublisher = nil, nil
		c.Logger = slog.New(slog.NewJSONHandler(io.MultiWriter(logs, testinfra.LogWriter("api")),
			&slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	acct := s.account(f, "fuzz")
	s.app(f, acct.ID, "fuzz", map[string]any{"id": fuzzAppID})
	f.Fuzz(func(t *testing.T, route uint8, id string, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if id == "" {
			id = fuzzAppID
		}
		path := strings.ReplaceAll(r.path, "{id}", url.PathEscape(id))
		body = bytes.ReplaceAll(body, []byte(accountPlaceholder), []byte(acct.ID))
		resp := s.do(t, r.method, path, bytes.NewReader(body))
		if resp.status >= http.StatusInternalServerError {
			t.Fatalf("%s %s %q: status %d: %s\nserver warnings and errors:\n%s",
				r.method, path, body, resp.status, resp.body, logs.String())
		}
	})
}
