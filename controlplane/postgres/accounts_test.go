package postgres_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestAccountCreateGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)

	a := f.account(t, "Acme Ltd")
	if !regexp.MustCompile(`^acc_[a-z2-7]{16}$`).MatchString(a.ID) {
		t.Errorf("account id %q does not look like acc_<16 base32>", a.ID)
	}
	if a.Name != "Acme Ltd" || a.CreatedAt.IsZero() {
		t.Errorf("account = %+v", a)
	}
	got, err := f.store.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatalf("get account: %v", err)
	}
	if got != a {
		t.Errorf("get account = %+v, want %+v", got, a)
	}
	if b := f.account(t, "Acme Ltd"); b.ID == a.ID {
		t.Errorf("two accounts share id %s", a.ID)
	}

	_, err = f.store.GetAccount(ctx, "acc_missing")
	if de := wantError(t, err, channels.CodeNotFound, ""); de.Message != "account acc_missing not found" {
		t.Errorf("message = %q", de.Message)
	}
}

func TestAccountNameValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, name := range []string{"", strings.Repeat("é", channels.MaxNameLen+1), "bad\xff"} {
		_, err := f.store.CreateAccount(context.Background(), name)
		wantError(t, err, channels.CodeBadRequest, "name")
	}
	if _, err := f.store.CreateAccount(context.Background(), strings.Repeat("é", channels.MaxNameLen)); err != nil {
		t.Errorf("name of %d runes: %v", channels.MaxNameLen, err)
	}
}

func TestListAccountsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	var want []string
	for i := range 7 {
		want = append(want, f.account(t, fmt.Sprintf("account %d", i)).ID)
	}
	slices.Sort(want)

	var got [][]string
	cursor := ""
	for range 10 {
		items, next, err := f.store.ListAccounts(ctx, controlplane.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("list accounts: %v", err)
		}
		var ids []string
		for _, a := range items {
			ids = append(ids, a.ID)
		}
		got = append(got, ids)
		if next == "" {
			break
		}
		cursor = next
	}
	wantPages := [][]string{want[0:3], want[3:6], want[6:7]}
	if fmt.Sprint(got) != fmt.Sprint(wantPages) {
		t.Errorf("pages = %v, want %v", got, wantPages)
	}

	all, next, err := f.store.ListAccounts(ctx, controlplane.Page{})
	if err != nil || next != "" || len(all) != len(want) {
		t.Errorf("default page: %d items, next %q, err %v", len(all), next, err)
	}
	// An exact fit has no next page.
	items, next, err := f.store.ListAccounts(ctx, controlplane.Page{Limit: len(want)})
	if err != nil || next != "" || len(items) != len(want) {
		t.Errorf("page of exactly %d: %d items, next %q, err %v", len(want), len(items), next, err)
	}
}

func TestListPageArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	cases := []struct {
		name  string
		page  controlplane.Page
		field string
	}{
		{"limit too big", controlplane.Page{Limit: controlplane.MaxPageLimit + 1}, "limit"},
		{"negative limit", controlplane.Page{Limit: -1}, "limit"},
		{"cursor not base64url", controlplane.Page{Cursor: "!!"}, "cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.store.ListAccounts(ctx, c.page)
			wantError(t, err, channels.CodeBadRequest, c.field)
			_, _, err = f.store.ListApps(ctx, controlplane.AppFilter{}, c.page)
			wantError(t, err, channels.CodeBadRequest, c.field)
			_, _, err = f.store.ListAudit(ctx, c.page)
			wantError(t, err, channels.CodeBadRequest, c.field)
		})
	}
	if _, _, err := f.store.ListAccounts(ctx, controlplane.Page{Limit: controlplane.MaxPageLimit}); err != nil {
		t.Errorf("limit = MaxPageLimit: %v", err)
	}
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "with apps")
	f.app(t, acc.ID, "app1")

	wantError(t, f.store.DeleteAccount(ctx, acc.ID), channels.CodeConflict, "")
	if _, err := f.store.GetAccount(ctx, acc.ID); err != nil {
		t.Fatalf("account gone after refused delete: %v", err)
	}
	if err := f.store.DeleteApp(ctx, "app1"); err != nil {
		t.Fatalf("delete app: %v", err)
	}
	if err := f.store.DeleteAccount(ctx, acc.ID); err != nil {
		t.Fatalf("delete account: %v", err)
	}
	_, err := f.store.GetAccount(ctx, acc.ID)
	wantError(t, err, channels.CodeNotFound, "")
	wantError(t, f.store.DeleteAccount(ctx, acc.ID), channels.CodeNotFound, "")
}
