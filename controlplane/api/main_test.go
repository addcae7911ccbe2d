package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// bootstrapToken is the configured admin token of every test server.
const bootstrapToken = "test-bootstrap-token-0123456789"

// server is an API on a fresh, migrated database, served by httptest.
type server struct {
	url   string
	store *postgres.Store
	pub   *recordingPublisher
	logs  *testinfra.LogBuffer
}

// newServer starts an API; modify adjusts its Config first.
func newServer(tb testing.TB, modify ...func(*api.Config)) *server {
	tb.Helper()
	return newServerAt(tb, testenv.MigratedPostgres(tb), modify...)
}

// newServerAt starts an API on the database at url, as it is.
func newServerAt(tb testing.TB, url string, modify ...func(*api.Config)) *server {
	tb.Helper()
	testinfra.Sensitive(bootstrapToken)
	store, _ := testenv.OpenStore(tb, url)
	s := &server{store: store, pub: &recordingPublisher{}, logs: &testinfra.LogBuffer{}}
	cfg := api.Config{
		Store:        store,
		Publisher:    s.pub,
		KeyPublisher: s.pub,
		AdminToken:   bootstrapToken,
		Logger: slog.New(slog.NewJSONHandler(io.MultiWriter(s.logs, testinfra.LogWriter("api")),
			&slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range modify {
		m(&cfg)
	}
	a, err := api.New(cfg)
	if err != nil {
		tb.Fatalf("api.New: %v", err)
	}
	hs := httptest.NewServer(a.Handler())
	tb.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// response is one HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the bootstrap token. body is sent as is when it
// is a string and as JSON otherwise; nil sends none.
func (s *server) do(tb testing.TB, method, path string, body any) response {
	tb.Helper()
	return s.doAs(tb, bootstrapToken, method, path, body)
}

// doAs sends a request with token ("" sends no Authorization header).
func (s *server) doAs(tb testing.TB, token, method, path string, body any) response {
	tb.Helper()
	var h http.Header
	if token != "" {
		h = http.Header{"Authorization": {"Bearer " + token}}
	}
	return s.raw(tb, method, path, h, body)
}

// requestBody is a request body from a test's value: nil (none), a
// string or reader as it is, anything else as JSON.
func requestBody(tb testing.TB, body any) io.Reader {
	tb.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case io.Reader:
		return b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode body: %v", err)
		}
		return bytes.NewReader(enc)
	}
}

// raw sends a request with exactly the headers h.
func (s *server) raw(tb testing.TB, method, path string, h http.Header, body any) response {
	tb.Helper()
	req, err := http.NewRequest(method, s.url+path, requestBody(tb, body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails unless the status is status, then decodes the body into out
// (when not nil).
func (r response) want(tb testing.TB, status int, out any) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tb.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// apiError is the error shape.
type apiError struct {
	Error struct {
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Field   *string `json:"field"`
	} `json:"error"`
}

// wantError fails unless the answer is an error with status, code and, if
// field is not empty, that field. It checks that the body has exactly the
// error shape.
func (r response) wantError(tb testing.TB, status int, code, field string) apiError {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	var e apiError
	if err := dec.Decode(&e); err != nil {
		tb.Fatalf("error body %s is not the error shape: %v", r.body, err)
	}
	if e.Error.Code != code {
		tb.Fatalf("error code = %q (%s), want %q", e.Error.Code, r.body, code)
	}
	if e.Error.Message == "" {
		tb.Errorf("error without message: %s", r.body)
	}
	if field != "" && (e.Error.Field == nil || *e.Error.Field != field) {
		tb.Fatalf("error field in %s, want %q", r.body, field)
	}
	return e
}

// list is the page envelope.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// recordingPublisher records SyncApp calls; failWith, when set, is
// returned by every call.
type recordingPublisher struct {
	mu       sync.Mutex
	calls    []string
	failWith error
}

func (p *recordingPublisher) SyncApp(_ context.Context, appID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, appID)
	return p.failWith
}

// signingKeysSynced is what SyncSigningKeys records among the calls.
const signingKeysSynced = "(signing keys)"

func (p *recordingPublisher) SyncSigningKeys(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, signingKeysSynced)
	return p.failWith
}

// take returns the calls so far and forgets them.
func (p *recordingPublisher) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = nil
	return c
}

func (p *recordingPublisher) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failWith = err
}

// account creates an account through the API.
func (s *server) account(tb testing.TB, name string) controlplane.Account {
	tb.Helper()
	var a controlplane.Account
	s.do(tb, http.MethodPost, "/admin/v1/accounts", map[string]any{"name": name}).want(tb, http.StatusCreated, &a)
	return a
}

// app creates an app through the API; body fields are added to the
// account id and name.
func (s *server) app(tb testing.TB, accountID, name string, body map[string]any) controlplane.App {
	tb.Helper()
	in := map[string]any{"account_id": accountID, "name": name}
	for k, v := range body {
		in[k] = v
	}
	var a controlplane.App
	s.do(tb, http.MethodPost, "/admin/v1/apps", in).want(tb, http.StatusCreated, &a)
	return a
}

// key creates a key through the API.
func (s *server) key(tb testing.TB, appID string) controlplane.NewKey {
	tb.Helper()
	var k controlplane.NewKey
	s.do(tb, http.MethodPost, "/admin/v1/apps/"+appID+"/keys", nil).want(tb, http.StatusCreated, &k)
	testinfra.Sensitive(k.Secret)
	return k
}

// audit returns the newest audit entries.
func (s *server) audit(tb testing.TB) []controlplane.AuditEntry {
	tb.Helper()
	var l list[controlplane.AuditEntry]
	s.do(tb, http.MethodGet, "/admin/v1/audit?limit=500", nil).want(tb, http.StatusOK, &l)
	return l.Items
}
