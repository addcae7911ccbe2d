package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
)

func TestWriteError(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Retry-After", "3") // set by the caller, kept
			gateway.WriteError(rec, httptest.NewRequest(method, "/sse", nil),
				http.StatusTooManyRequests, channels.CodeRateLimited, `too "many"`)
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "3" {
				t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if method == http.MethodHead {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD answered with a body: %s", rec.Body)
				}
				return
			}
			var body channels.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			want := channels.ErrorDetail{Code: channels.CodeRateLimited, Message: `too "many"`}
			if body.Error != want {
				t.Errorf("body = %+v, want %+v", body.Error, want)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	rec := httptest.NewRecorder()
	gateway.NotFound(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	var body channels.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusNotFound || body.Error.Code != channels.CodeNotFound {
		t.Fatalf("%d %s (%v)", rec.Code, rec.Body, err)
	}
}
