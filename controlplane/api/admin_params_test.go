package api_test

import (
	"net/http"
	"testing"
)

// TestPathParamsAreCheckedDecoded: a path parameter that decodes to
// invalid UTF-8 is a 400 naming it however it was escaped. Go keeps a
// path escaped otherwise than it would escape it ("%ff", lower case) as
// sent, and echo then hands its parameters over undecoded: "%ff" was a
// 404 "app %ff not found" while "%FF" was the 400.
func TestPathParamsAreCheckedDecoded(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	tests := []struct{ path, field string }{
		{"/admin/v1/apps/%ff", "id"},
		{"/admin/v1/apps/%FF", "id"},
		{"/admin/v1/apps/%ED%A0%80", "id"},
		{"/admin/v1/apps/%ed%a0%80", "id"},
		{"/admin/v1/apps/%00", "id"},
		{"/admin/v1/accounts/acc_%ff", "id"},
		{"/admin/v1/plans/%c3", "id"},
		{"/admin/v1/apps/" + app.ID + "/keys?cursor=%ff", "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s.do(t, http.MethodGet, tt.path, nil).wantError(t, http.StatusBadRequest, "bad_request", tt.field)
		})
	}
	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID+"/keys/%fe", nil).
		wantError(t, http.StatusBadRequest, "bad_request", "key")
	// Still found when escaped in the other case: the check decodes,
	// the handler reads the id as it did.
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID, nil).want(t, http.StatusOK, nil)
	s.do(t, http.MethodGet, "/admin/v1/apps/nope%2d1", nil).wantError(t, http.StatusNotFound, "not_found", "")
}
