package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestTokensLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	var tok createdToken
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{"name":"deploy"}`).want(t, http.StatusCreated, &tok)
	if tok.Token == "" || tok.ID == "" || tok.Name != "deploy" || tok.RevokedAt != nil {
		t.Fatalf("created token = %+v", tok)
	}

	var l list[controlplane.AdminToken]
	r := s.do(t, http.MethodGet, "/admin/v1/tokens", nil)
	r.want(t, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].ID != tok.ID {
		t.Fatalf("tokens = %+v", l.Items)
	}
	if strings.Contains(string(r.body), tok.Token) || strings.Contains(string(r.body), `"token"`) {
		t.Errorf("token list shows the token: %s", r.body)
	}

	s.do(t, http.MethodDelete, "/admin/v1/tokens/"+tok.ID, nil).want(t, http.StatusNoContent, nil)
	s.do(t, http.MethodGet, "/admin/v1/tokens", nil).want(t, http.StatusOK, &l)
	if l.Items[0].RevokedAt == nil {
		t.Errorf("revoked token listed as live: %+v", l.Items[0])
	}
	s.do(t, http.MethodDelete, "/admin/v1/tokens/tok_nope", nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodPost, "/admin/v1/tokens", `{}`).wantError(t, http.StatusBadRequest, "bad_request", "name")

	var create, revoke bool
	for _, e := range s.audit(t) {
		if e.Target != tok.ID {
			continue
		}
		create = create || e.Action == "token.create"
		revoke = revoke || e.Action == "token.revoke"
		if strings.Contains(string(e.Details), tok.Token) {
			t.Errorf("audit details hold the token: %s", e.Details)
		}
	}
	if !create || !revoke {
		t.Errorf("audit: token.create %v, token.revoke %v", create, revoke)
	}
}

func TestListTokensPaginates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, n := range []string{"a", "b", "c"} {
		s.do(t, http.MethodPost, "/admin/v1/tokens", map[string]string{"name": n}).want(t, http.StatusCreated, nil)
	}
	var p1, p2 list[controlplane.AdminToken]
	s.do(t, http.MethodGet, "/admin/v1/tokens?limit=2", nil).want(t, http.StatusOK, &p1)
	if len(p1.Items) != 2 || p1.NextCursor == nil {
		t.Fatalf("first page = %+v", p1)
	}
	s.do(t, http.MethodGet, "/admin/v1/tokens?limit=2&cursor="+*p1.NextCursor, nil).want(t, http.StatusOK, &p2)
	if len(p2.Items) != 1 || p2.NextCursor != nil || p2.Items[0].Name != "c" {
		t.Fatalf("second page = %+v", p2)
	}
}

func TestAuditIsNewestFirst(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, n := range []string{"first", "second", "third"} {
		s.account(t, n)
	}
	var p1, p2 list[controlplane.AuditEntry]
	s.do(t, http.MethodGet, "/admin/v1/audit?limit=2", nil).want(t, http.StatusOK, &p1)
	if len(p1.Items) != 2 || p1.NextCursor == nil || p1.Items[0].ID <= p1.Items[1].ID {
		t.Fatalf("first audit page = %+v", p1)
	}
	if !strings.Contains(string(p1.Items[0].Details), "third") {
		t.Errorf("newest entry = %s, want the third account", p1.Items[0].Details)
	}
	s.do(t, http.MethodGet, "/admin/v1/audit?limit=2&cursor="+*p1.NextCursor, nil).want(t, http.StatusOK, &p2)
	if len(p2.Items) != 1 || p2.NextCursor != nil || p2.Items[0].ID >= p1.Items[1].ID {
		t.Fatalf("second audit page = %+v", p2)
	}
}
