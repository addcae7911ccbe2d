package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// headerChecked are the headers a HEAD must answer as its GET does.
var headerChecked = []string{"Content-Type", "Content-Length", "Allow", "WWW-Authenticate", "Cache-Control"}

// sendAs sends method to url and reads the answer whole.
func sendAs(tb testing.TB, method, url string, h http.Header) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, res.Header, body
}

// TestHeadOnEveryGetRoute walks echo's routes: every GET route answers
// HEAD with the GET's status and headers and no body, without a HEAD
// route of its own (the OpenAPI document's GET stands for both).
func TestHeadOnEveryGetRoute(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	gets := 0
	for _, r := range a.echo.Routes() {
		if r.Method == http.MethodHead {
			t.Errorf("HEAD %s is a route: HEAD is answered on the GET's", r.Path)
		}
		if r.Method != http.MethodGet {
			continue
		}
		gets++
		path := echoParam.ReplaceAllString(r.Path, "x")
		t.Run(path, func(t *testing.T) {
			getStatus, getHeader, _ := sendAs(t, http.MethodGet, hs.URL+path, nil)
			status, header, body := sendAs(t, http.MethodHead, hs.URL+path, nil)
			if status != getStatus || len(body) != 0 {
				t.Fatalf("HEAD = %d with %d bytes, GET = %d", status, len(body), getStatus)
			}
			for _, k := range headerChecked {
				if header.Get(k) != getHeader.Get(k) {
					t.Errorf("HEAD %s = %q, GET's = %q", k, header.Get(k), getHeader.Get(k))
				}
			}
		})
	}
	if gets < 20 {
		t.Errorf("%d GET routes", gets)
	}
}

// TestAllowListsHead: where echo lists a route's methods (405, OPTIONS),
// HEAD is with GET; a HEAD where there is no GET is refused.
func TestAllowListsHead(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(newTestAPI(t).Handler())
	t.Cleanup(hs.Close)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodDelete, "/admin/v1/openapi.json", http.StatusMethodNotAllowed, "OPTIONS, GET, HEAD"},
		{http.MethodOptions, "/admin/v1/accounts", http.StatusNoContent, "OPTIONS, GET, HEAD, POST"},
		{http.MethodHead, "/admin/v1/tokens/x", http.StatusMethodNotAllowed, "OPTIONS, DELETE"},
		{http.MethodHead, "/admin/v1/no/such/route", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, header, _ := sendAs(t, tt.method, hs.URL+tt.path, nil)
			if status != tt.status || header.Get("Allow") != tt.allow {
				t.Fatalf("%d Allow %q, want %d %q", status, header.Get("Allow"), tt.status, tt.allow)
			}
		})
	}
}

func TestAllowWithHead(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"OPTIONS, GET":         "OPTIONS, GET, HEAD",
		"OPTIONS, GET, POST":   "OPTIONS, GET, HEAD, POST",
		"GET":                  "GET, HEAD",
		"OPTIONS, GET, HEAD":   "OPTIONS, GET, HEAD",
		"OPTIONS, POST":        "OPTIONS, POST",
		"OPTIONS, DELETE, PUT": "OPTIONS, DELETE, PUT",
		"":                     "",
	} {
		if got := allowWithHead(in); got != want {
			t.Errorf("allowWithHead(%q) = %q, want %q", in, got, want)
		}
	}
	if got := strings.Join(servedMethods(http.MethodGet), ", "); got != "GET, HEAD" {
		t.Errorf("servedMethods(GET) = %s", got)
	}
}
