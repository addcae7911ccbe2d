package console_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/console"
)

// securityHeaders are the headers every console answer must carry.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHandlerAnswers checks the status, type and caching of each kind of
// request, and the security headers on all of them: files, the fallback
// to index.html, a missing file, the redirect, a refused method.
func TestHandlerAnswers(t *testing.T) {
	h := console.Handler()
	tests := []struct {
		name, method, target string
		status               int
		contentType          string
		cacheControl         string
		bodyHas              string
	}{
		{"index", http.MethodGet, "/console/", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"index by name", http.MethodGet, "/console/index.html", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"script", http.MethodGet, "/console/app.js", http.StatusOK, "text/javascript; charset=utf-8", "no-cache", ""},
		{"stylesheet", http.MethodGet, "/console/app.css", http.StatusOK, "text/css; charset=utf-8", "no-cache", ""},
		{"fallback", http.MethodGet, "/console/apps/demo/keys", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"head", http.MethodHead, "/console/", http.StatusOK, "text/html; charset=utf-8", "no-cache", ""},
		{"missing file", http.MethodGet, "/console/missing.js", http.StatusNotFound, "application/json", "no-store", `"not_found"`},
		{"post", http.MethodPost, "/console/", http.StatusMethodNotAllowed, "application/json", "no-store", `"method_not_allowed"`},
		{"no slash", http.MethodGet, "/console", http.StatusMovedPermanently, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, h, tt.method, tt.target, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			for k, want := range securityHeaders {
				if got := res.Header.Get(k); !strings.HasPrefix(got, want) {
					t.Errorf("%s = %q, want it to start with %q", k, got, want)
				}
			}
			if got := res.Header.Get("Content-Type"); tt.contentType != "" && got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cacheControl)
			}
			b := body(t, res)
			if tt.method == http.MethodHead && len(b) != 0 {
				t.Errorf("HEAD answered %d bytes of body", len(b))
			}
			if !bytes.Contains(b, []byte(tt.bodyHas)) {
				t.Errorf("body lacks %q:\n%s", tt.bodyHas, b)
			}
		})
	}
}

func TestRedirectTarget(t *testing.T) {
	res := serve(t, console.Handler(), http.MethodGet, "/console", nil)
	if got := res.Header.Get("Location"); got != console.Path {
		t.Errorf("Location = %q, want %q", got, console.Path)
	}
}

// TestErrorShape checks that a refusal is the one JSON error shape, with
// Allow naming the methods on a 405.
func TestErrorShape(t *testing.T) {
	res := serve(t, console.Handler(), http.MethodDelete, "/console/app.js", nil)
	if got := res.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q", got)
	}
	var eb channels.ErrorBody
	if err := json.Unmarshal(body(t, res), &eb); err != nil {
		t.Fatal(err)
	}
	if eb.Error.Code != channels.CodeMethodNotAllowed || eb.Error.Message == "" {
		t.Errorf("error body %+v", eb)
	}
}

// TestConditionalGet checks that the ETag of a file revalidates it with a
// 304 and no body.
func TestConditionalGet(t *testing.T) {
	h := console.Handler()
	first := serve(t, h, http.MethodGet, "/console/app.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		res := serve(t, h, http.MethodGet, "/console/app.js", map[string]string{"If-None-Match": inm})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", inm, res.StatusCode)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("304 without the security headers")
		}
		if b := body(t, res); len(b) != 0 {
			t.Errorf("304 with a body of %d bytes", len(b))
		}
	}
	res := serve(t, h, http.MethodGet, "/console/app.js", map[string]string{"If-None-Match": `"stale"`})
	if res.StatusCode != http.StatusOK {
		t.Errorf("stale ETag: status %d, want 200", res.StatusCode)
	}
}

// TestGzip checks that a client that accepts gzip gets the same bytes
// compressed, and one that does not gets them plain.
func TestGzip(t *testing.T) {
	h := console.Handler()
	plain := serve(t, h, http.MethodGet, "/console/app.js", nil)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("compressed without Accept-Encoding")
	}
	want := body(t, plain)
	res := serve(t, h, http.MethodGet, "/console/app.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary = %q", res.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("gunzipped body differs from the plain one")
	}
	refused := serve(t, h, http.MethodGet, "/console/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if refused.Header.Get("Content-Encoding") != "" {
		t.Errorf("compressed although gzip;q=0")
	}
}

// inlineStyleOrHandler matches what the policy would block in the page
// besides inline scripts: a style element, a style attribute, an event
// handler attribute.
var inlineStyleOrHandler = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`)

// scriptTag matches a script element's start tag.
var scriptTag = regexp.MustCompile(`(?i)<script[^>]*>`)

// TestIndexNeedsNoInlineCode checks the built page against the policy:
// it loads its script and stylesheet from files only.
func TestIndexNeedsNoInlineCode(t *testing.T) {
	page := string(body(t, serve(t, console.Handler(), http.MethodGet, "/console/", nil)))
	if m := inlineStyleOrHandler.FindString(page); m != "" {
		t.Errorf("index.html has inline code the policy blocks: %q", m)
	}
	for _, tag := range scriptTag.FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	for _, ref := range []string{`src="app.js"`, `href="app.css"`} {
		if !strings.Contains(page, ref) {
			t.Errorf("index.html lacks %s", ref)
		}
	}
}
