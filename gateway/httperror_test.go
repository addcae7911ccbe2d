package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
)

func TestNotFound(t *testing.T) {
	rec := httptest.NewRecorder()
	gateway.NotFound(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	var body channels.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusNotFound || body.Error.Code != channels.CodeNotFound {
		t.Fatalf("%d %s (%v)", rec.Code, rec.Body, err)
	}
}
