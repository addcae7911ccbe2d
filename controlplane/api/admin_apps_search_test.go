package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestListAppsSearch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a, b := s.account(t, "a"), s.account(t, "b")
	shop := s.app(t, a.ID, "Web Shop", map[string]any{"id": "shop-1"})
	pct := s.app(t, a.ID, "50% off", map[string]any{"id": "pct-1"})
	s.app(t, a.ID, "500 off", map[string]any{"id": "five-1"})
	other := s.app(t, b.ID, "Other shop", map[string]any{"id": "shop-2"})

	pages := func(query url.Values) [][]string {
		var out [][]string
		for range 10 {
			var l list[controlplane.App]
			s.do(t, http.MethodGet, "/admin/v1/apps?"+query.Encode(), nil).want(t, http.StatusOK, &l)
			ids := []string{}
			for _, app := range l.Items {
				ids = append(ids, app.ID)
			}
			out = append(out, ids)
			if l.NextCursor == nil {
				return out
			}
			query.Set("cursor", *l.NextCursor)
		}
		t.Fatal("pagination does not end")
		return nil
	}
	cases := []struct {
		name  string
		query url.Values
		want  [][]string
	}{
		{"name ignoring case", url.Values{"q": {" SHOP "}}, [][]string{{shop.ID, other.ID}}},
		{"id", url.Values{"q": {"pct-"}}, [][]string{{pct.ID}}},
		{"percent literally", url.Values{"q": {"50%"}}, [][]string{{pct.ID}}},
		{"with an account", url.Values{"q": {"shop"}, "account_id": {b.ID}}, [][]string{{other.ID}}},
		{"paged", url.Values{"q": {"shop"}, "limit": {"1"}}, [][]string{{shop.ID}, {other.ID}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pages(c.query); !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("pages = %v, want %v", got, c.want)
			}
		})
	}

	tooLong := url.Values{"q": {strings.Repeat("x", controlplane.MaxAppSearchLen+1)}}
	s.do(t, http.MethodGet, "/admin/v1/apps?"+tooLong.Encode(), nil).wantError(t, http.StatusBadRequest, "bad_request", "q")
}
