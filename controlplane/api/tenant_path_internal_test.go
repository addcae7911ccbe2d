package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestPathParam: a path parameter is decoded exactly once, whether echo
// routed on URL.Path or URL.RawPath.
func TestPathParam(t *testing.T) {
	cases := []struct {
		segment string // as sent on the wire
		want    string
	}{
		{"plain", "plain"},
		{"x%2541", "x%41"},   // how an SDK escapes the id x%41
		{"x%41", "xA"},       // an escape where none is needed
		{"50%25", "50%"},     // a percent sign
		{"a%2540b", "a%40b"}, // not a@b
		{"a%40b", "a@b"},
		{"a@b", "a@b"},
		{"a%2Fb", "a/b"},
		{"a%20b", "a b"},
		{"a+b", "a+b"},
		{"%C3%A9t%C3%A9", "été"},
		{"été", "été"},
		{"%E6%97%A5%2F%E6%9C%AC", "日/本"},
		{"%FF", "\xff"}, // decoded; the handler refuses it
	}
	for _, tc := range cases {
		e := echo.New()
		var got string
		var gotErr error
		e.POST("/apps/:app_id/users/:user_id/terminate_connections", func(c echo.Context) error {
			got, gotErr = pathParam(c, "user_id")
			return nil
		})
		req := httptest.NewRequest(http.MethodPost, "/apps/1/users/"+tc.segment+"/terminate_connections", nil)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: routed to %d", tc.segment, rec.Code)
			continue
		}
		if gotErr != nil || got != tc.want {
			t.Errorf("%s: pathParam = %q, %v; want %q", tc.segment, got, gotErr, tc.want)
		}
	}
}

// TestPathParamRoundTrip: any id an SDK escapes with url.PathEscape comes
// back as itself.
func TestPathParamRoundTrip(t *testing.T) {
	for _, id := range []string{"x%41", "50%", "100%25", "a/b", "a b", "a+b", "a@b", "a;b", "a?b", "a#b", "été", "日本", "%", "%%2F"} {
		e := echo.New()
		var got string
		e.GET("/apps/:app_id/channels/:channel_name", func(c echo.Context) error {
			got, _ = pathParam(c, "channel_name")
			return nil
		})
		u := &url.URL{Path: "/apps/1/channels/" + id}
		u.RawPath = "/apps/1/channels/" + url.PathEscape(id)
		req := httptest.NewRequest(http.MethodGet, u.EscapedPath(), nil)
		e.ServeHTTP(httptest.NewRecorder(), req)
		if got != id {
			t.Errorf("PathEscape(%q) = %q: pathParam = %q", id, url.PathEscape(id), got)
		}
	}
}
