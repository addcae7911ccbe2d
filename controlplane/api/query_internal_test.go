package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestLiteralSemicolons: a ";" is part of a value, as the Node SDK sends
// it; only "&" separates pairs.
func TestLiteralSemicolons(t *testing.T) {
	cases := []struct {
		query string
		want  url.Values
	}{
		{"filter_by_prefix=team;1", url.Values{"filter_by_prefix": {"team;1"}}},
		{"a=x;y&b=2", url.Values{"a": {"x;y"}, "b": {"2"}}},
		{"a=%3B&b=;;", url.Values{"a": {";"}, "b": {";;"}}},
		{"a;b=1", url.Values{"a;b": {"1"}}},
		{"a=1&b=2", url.Values{"a": {"1"}, "b": {"2"}}},
		{"", url.Values{}},
	}
	for _, tc := range cases {
		e := echo.New()
		e.Pre(literalSemicolons)
		var got url.Values
		e.GET("/q", func(c echo.Context) error {
			got = c.QueryParams()
			return nil
		})
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/q?"+tc.query, nil))
		if got.Encode() != tc.want.Encode() {
			t.Errorf("%q: query = %v, want %v", tc.query, got, tc.want)
		}
	}
}
