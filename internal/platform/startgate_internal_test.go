package platform

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestStartingGate: until the process has started, requests other than
// the operational endpoints get 503 with Retry-After (never the 404 or
// 4001 of an app the cache has not loaded yet), and readiness fails; once
// started, everything passes.
func TestStartingGate(t *testing.T) {
	p := &Platform{ready: make(chan struct{})}
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	gate := p.startingGate(next)
	cases := []struct {
		path          string
		before, after int
	}{
		{"/app/app-key", http.StatusServiceUnavailable, http.StatusTeapot},
		{"/apps/app-id/events", http.StatusServiceUnavailable, http.StatusTeapot},
		{"/console/", http.StatusServiceUnavailable, http.StatusTeapot},
		{"/healthz", http.StatusTeapot, http.StatusTeapot},
		{"/readyz", http.StatusTeapot, http.StatusTeapot},
		{"/metrics", http.StatusTeapot, http.StatusTeapot},
	}
	serve := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		gate.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	for _, tc := range cases {
		w := serve(tc.path)
		if w.Code != tc.before {
			t.Errorf("%s while starting = %d, want %d", tc.path, w.Code, tc.before)
		}
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Errorf("%s while starting has no Retry-After", tc.path)
		}
	}
	if err := p.startedCheck(context.Background()); err == nil {
		t.Error("readiness passes while starting")
	}
	close(p.ready)
	for _, tc := range cases {
		if w := serve(tc.path); w.Code != tc.after {
			t.Errorf("%s once started = %d, want %d", tc.path, w.Code, tc.after)
		}
	}
	if err := p.startedCheck(context.Background()); err != nil {
		t.Errorf("readiness once started: %v", err)
	}
}
