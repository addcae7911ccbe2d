package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/cors"
)

const (
	good = "https://app.example"
	bad  = "https://evil.example"
)

func only(origin string) cors.Origins { return func(o string) bool { return o == origin } }

func request(method, origin string, h map[string]string) *http.Request {
	r := httptest.NewRequest(method, "http://herald.test/x", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

func TestIsPreflight(t *testing.T) {
	acrm := map[string]string{"Access-Control-Request-Method": "GET"}
	tests := []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"preflight", request(http.MethodOptions, good, acrm), true},
		{"OPTIONS without Origin", request(http.MethodOptions, "", acrm), false},
		{"OPTIONS without a requested method", request(http.MethodOptions, good, nil), false},
		{"GET with both", request(http.MethodGet, good, acrm), false},
	}
	for _, tt := range tests {
		if got := cors.IsPreflight(tt.r); got != tt.want {
			t.Errorf("%s: IsPreflight = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestActual(t *testing.T) {
	tests := []struct {
		name       string
		origin     string
		allowed    cors.Origins
		wantOK     bool
		wantOrigin string
		wantVary   bool
	}{
		{"allowed origin is echoed", good, only(good), true, good, true},
		{"refused origin gets nothing", bad, only(good), false, "", true},
		{"no origin is not cross-origin", "", only(good), true, "", true},
		{"public answers any origin with *", bad, nil, true, "*", false},
		{"public without origin", "", nil, true, "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			ok := cors.Actual(h, request(http.MethodGet, tt.origin, nil), tt.allowed)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if got := h.Get("Vary") == "Origin"; got != tt.wantVary {
				t.Errorf("Vary = %q, want Origin: %v", h.Get("Vary"), tt.wantVary)
			}
			wantExpose := ""
			if tt.wantOrigin != "" {
				wantExpose = cors.ExposeHeaders
			}
			if got := h.Get("Access-Control-Expose-Headers"); got != wantExpose {
				t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, wantExpose)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("Access-Control-Allow-Credentials is set: credentials never travel in cookies")
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	get := []string{http.MethodGet}
	tests := []struct {
		name       string
		origin     string
		method     string
		allowed    cors.Origins
		wantOK     bool
		wantOrigin string
	}{
		{"allowed origin and method", good, http.MethodGet, only(good), true, good},
		{"refused origin", bad, http.MethodGet, only(good), false, ""},
		{"method not served", good, http.MethodPost, only(good), false, ""},
		{"public", bad, http.MethodGet, nil, true, "*"},
		{"public, method not served", bad, http.MethodDelete, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			r := request(http.MethodOptions, tt.origin, map[string]string{
				"Access-Control-Request-Method":  tt.method,
				"Access-Control-Request-Headers": "authorization, last-event-id",
			})
			ok := cors.Preflight(h, r, get, tt.allowed)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			vary := h.Values("Vary")
			if len(vary) != 3 || vary[0] != "Origin" {
				t.Errorf("Vary = %q, want Origin and the two request headers", vary)
			}
			if !ok {
				if h.Get("Access-Control-Allow-Methods") != "" || h.Get("Access-Control-Max-Age") != "" {
					t.Errorf("a refused preflight carries %v", h)
				}
				return
			}
			want := map[string]string{
				"Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "Authorization, Last-Event-ID",
				"Access-Control-Max-Age":       strconv.Itoa(int(cors.MaxAge / time.Second)),
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestVaryNotRepeated(t *testing.T) {
	h := http.Header{"Vary": {"Accept-Encoding, origin"}}
	cors.Actual(h, request(http.MethodGet, good, nil), only(good))
	if got := h.Values("Vary"); len(got) != 1 {
		t.Errorf("Vary = %q: Origin added twice", got)
	}
}
