package httperr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/httperr"
)

func TestWrite(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Retry-After", "3") // set by the caller, kept
			httperr.Write(rec, httptest.NewRequest(method, "/sse", nil),
				http.StatusTooManyRequests, channels.CodeRateLimited, `too "many"`)
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "3" {
				t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
			}
			for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
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
