package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestAccountsLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	acct := s.account(t, "Acme")
	if acct.ID == "" || acct.Name != "Acme" || acct.CreatedAt.IsZero() {
		t.Fatalf("created account = %+v", acct)
	}
	var got controlplane.Account
	s.do(t, http.MethodGet, "/admin/v1/accounts/"+acct.ID, nil).want(t, http.StatusOK, &got)
	if got != acct {
		t.Errorf("GET = %+v, want %+v", got, acct)
	}

	// An account with apps cannot go.
	app := s.app(t, acct.ID, "web", nil)
	s.do(t, http.MethodDelete, "/admin/v1/accounts/"+acct.ID, nil).wantError(t, http.StatusConflict, "conflict", "")
	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID, nil).want(t, http.StatusNoContent, nil)

	r := s.do(t, http.MethodDelete, "/admin/v1/accounts/"+acct.ID, nil)
	r.want(t, http.StatusNoContent, nil)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	s.do(t, http.MethodGet, "/admin/v1/accounts/"+acct.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodDelete, "/admin/v1/accounts/"+acct.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")

	var actions []string
	for _, e := range s.audit(t) {
		if e.Target == acct.ID {
			actions = append(actions, e.Action)
			if e.Actor != "bootstrap" {
				t.Errorf("audit actor = %q, want bootstrap", e.Actor)
			}
		}
	}
	if want := "account.delete,account.create"; strings.Join(actions, ",") != want {
		t.Errorf("audit of the account (newest first) = %v, want %s", actions, want)
	}
}

func TestCreateAccountErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"no body", nil, http.StatusBadRequest, "bad_request", ""},
		{"empty object", `{}`, http.StatusBadRequest, "bad_request", "name"},
		{"empty name", `{"name":""}`, http.StatusBadRequest, "bad_request", "name"},
		{"name too long", map[string]string{"name": strings.Repeat("x", 201)}, http.StatusBadRequest, "bad_request", "name"},
		{"wrong type", `{"name":42}`, http.StatusBadRequest, "bad_request", "name"},
		{"unknown field", `{"name":"a","plan":"gold"}`, http.StatusBadRequest, "bad_request", "plan"},
		{"malformed", `{"name":`, http.StatusBadRequest, "bad_request", ""},
		{"not an object", `["a"]`, http.StatusBadRequest, "bad_request", ""},
		{"trailing data", `{"name":"a"} {"name":"b"}`, http.StatusBadRequest, "bad_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.do(t, http.MethodPost, "/admin/v1/accounts", tt.body).wantError(t, tt.status, tt.code, tt.field)
		})
	}
	var l list[controlplane.Account]
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 0 {
		t.Errorf("failed creations left accounts: %+v", l.Items)
	}
}

func TestListAccountsPaginates(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	var empty list[controlplane.Account]
	r := s.do(t, http.MethodGet, "/admin/v1/accounts", nil)
	r.want(t, http.StatusOK, &empty)
	if string(r.body) != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("empty list = %q, want items [] and next_cursor null", r.body)
	}

	want := map[string]bool{}
	for i := range 5 {
		want[s.account(t, fmt.Sprintf("account %d", i)).ID] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		var l list[controlplane.Account]
		path := "/admin/v1/accounts?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		s.do(t, http.MethodGet, path, nil).want(t, http.StatusOK, &l)
		pages++
		if len(l.Items) > 2 {
			t.Fatalf("page of %d items with limit=2", len(l.Items))
		}
		for _, a := range l.Items {
			if seen[a.ID] {
				t.Fatalf("account %s on two pages", a.ID)
			}
			seen[a.ID] = true
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	if pages != 3 || len(seen) != len(want) {
		t.Errorf("%d pages, %d accounts; want 3 pages, %d accounts", pages, len(seen), len(want))
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("account %s never listed", id)
		}
	}
}

func TestListParametersAreChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	paths := []string{
		"/admin/v1/accounts", "/admin/v1/apps", "/admin/v1/apps/" + app.ID + "/keys",
		"/admin/v1/tokens", "/admin/v1/audit",
	}
	for _, p := range paths {
		for _, q := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=x", "limit"}, {"limit=-1", "limit"},
			{"cursor=%21%21not-a-cursor", "cursor"}, {"cursor=" + strings.Repeat("a", 600), "cursor"},
		} {
			t.Run(p+"?"+q.query, func(t *testing.T) {
				s.do(t, http.MethodGet, p+"?"+q.query, nil).wantError(t, http.StatusBadRequest, "bad_request", q.field)
			})
		}
	}
}
