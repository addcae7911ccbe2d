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
			w := httptest.NewRecorder()
			w.Header().Set("Allow", "GET")
			httperr.Write(w, httptest.NewRequest(method, "/x", nil), http.StatusMethodNotAllowed, channels.CodeMethodNotAllowed, "use GET")
			res := w.Result()
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("status %d", res.StatusCode)
			}
			for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Allow": "GET"} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if method == http.MethodHead {
				if w.Body.Len() != 0 {
					t.Errorf("HEAD answered a body: %s", w.Body)
				}
				return
			}
			var eb channels.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
				t.Fatal(err)
			}
			if eb.Error.Code != channels.CodeMethodNotAllowed || eb.Error.Message != "use GET" {
				t.Errorf("body %+v", eb)
			}
		})
	}
}
