package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestListAppsSearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	accA, accB := f.account(t, "a"), f.account(t, "b")
	for _, a := range []struct{ account, id, name string }{
		{accA.ID, "shop-eu", "Web Shop"},
		{accA.ID, "shop-us", "web shop US"},
		{accA.ID, "pct", "100% real"},
		// Would match "100%", "a_b" and `k\s` were they patterns.
		{accA.ID, "zero", "1000 real"},
		{accA.ID, "under", "a_b"},
		{accA.ID, "axb", "axb"},
		{accA.ID, "slash", `back\slash`},
		{accA.ID, "noslash", "backslash"},
		{accB.ID, "shop-b", "Other Shop"},
		{accB.ID, "Analytics", "Metrics"},
	} {
		if _, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: a.id, AccountID: a.account, Name: a.name}); err != nil {
			t.Fatalf("create app %s: %v", a.id, err)
		}
	}

	cases := []struct {
		name   string
		filter controlplane.AppFilter
		limit  int
		want   [][]string
	}{
		{"substring of names", controlplane.AppFilter{Search: "shop"}, 0, [][]string{{"shop-b", "shop-eu", "shop-us"}}},
		{"substring of an id only", controlplane.AppFilter{Search: "eu"}, 0, [][]string{{"shop-eu"}}},
		{"id ignoring case", controlplane.AppFilter{Search: "ANALYT"}, 0, [][]string{{"Analytics"}}},
		{"name ignoring case, trimmed", controlplane.AppFilter{Search: "  wEB sHOP "}, 0, [][]string{{"shop-eu", "shop-us"}}},
		{"percent literally", controlplane.AppFilter{Search: "100%"}, 0, [][]string{{"pct"}}},
		{"lone percent", controlplane.AppFilter{Search: "%"}, 0, [][]string{{"pct"}}},
		{"underscore literally", controlplane.AppFilter{Search: "a_b"}, 0, [][]string{{"under"}}},
		{"backslash literally", controlplane.AppFilter{Search: `k\s`}, 0, [][]string{{"slash"}}},
		{"no match", controlplane.AppFilter{Search: "nothing"}, 0, [][]string{{}}},
		{"blank is no filter", controlplane.AppFilter{Search: "   "}, 0, [][]string{{
			"Analytics", "axb", "noslash", "pct", "shop-b", "shop-eu", "shop-us", "slash", "under", "zero"}}},
		{"with an account", controlplane.AppFilter{AccountID: accA.ID, Search: "shop"}, 0, [][]string{{"shop-eu", "shop-us"}}},
		{"with another account", controlplane.AppFilter{AccountID: accB.ID, Search: "web"}, 0, [][]string{{}}},
		{"paged by one", controlplane.AppFilter{Search: "shop"}, 1, [][]string{{"shop-b"}, {"shop-eu"}, {"shop-us"}}},
		// Matches are apart in id order: each page skips apps that do not
		// match, and the last page is found to be the last.
		{"paged, matches apart", controlplane.AppFilter{Search: "real"}, 1, [][]string{{"pct"}, {"zero"}}},
		{"paged with an account", controlplane.AppFilter{AccountID: accA.ID, Search: "S"}, 2, [][]string{
			{"noslash", "shop-eu"}, {"shop-us", "slash"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := appPages(t, f, c.filter, c.limit); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("pages = %v, want %v", got, c.want)
			}
		})
	}
}

func TestListAppsSearchBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	// Characters, not bytes, are counted.
	longest := strings.Repeat("é", controlplane.MaxAppSearchLen)
	if _, _, err := f.store.ListApps(ctx, controlplane.AppFilter{Search: longest}, controlplane.Page{}); err != nil {
		t.Errorf("search of %d characters: %v", controlplane.MaxAppSearchLen, err)
	}
	for _, search := range []string{longest + "é", "\xff"} {
		_, _, err := f.store.ListApps(ctx, controlplane.AppFilter{Search: search}, controlplane.Page{})
		wantError(t, err, channels.CodeBadRequest, "q")
	}
}
