package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestKeysLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	s.pub.take()

	k1 := s.key(t, app.ID)
	var k2 controlplane.NewKey
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/keys", `{}`).want(t, http.StatusCreated, &k2)
	if k1.Key.Key == "" || k1.Secret == "" || k1.AppID != app.ID || k1.RevokedAt != nil {
		t.Errorf("new key = %+v", k1)
	}
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID, app.ID}) {
		t.Errorf("SyncApp calls after two creations = %v", calls)
	}

	var l list[controlplane.Key]
	r := s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID+"/keys", nil)
	r.want(t, http.StatusOK, &l)
	if len(l.Items) != 2 || l.NextCursor != nil {
		t.Fatalf("keys = %+v", l)
	}
	if strings.Contains(string(r.body), "secret") {
		t.Errorf("key list shows secrets: %s", r.body)
	}

	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID+"/keys/"+k1.Key.Key, nil).want(t, http.StatusNoContent, nil)
	if calls := s.pub.take(); !slices.Equal(calls, []string{app.ID}) {
		t.Errorf("SyncApp calls after revoke = %v", calls)
	}
	s.do(t, http.MethodGet, "/admin/v1/apps/"+app.ID+"/keys", nil).want(t, http.StatusOK, &l)
	for _, k := range l.Items {
		if revoked := k.RevokedAt != nil; revoked != (k.Key == k1.Key.Key) {
			t.Errorf("key %s revoked = %v", k.Key, revoked)
		}
	}

	s.do(t, http.MethodDelete, "/admin/v1/apps/"+app.ID+"/keys/nope", nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodDelete, "/admin/v1/apps/other/keys/"+k2.Key.Key, nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodPost, "/admin/v1/apps/nope/keys", nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodGet, "/admin/v1/apps/nope/keys", nil).wantError(t, http.StatusNotFound, "not_found", "")
	if calls := s.pub.take(); len(calls) != 0 {
		t.Errorf("failed key changes published %v", calls)
	}

	var sawCreate, sawRevoke bool
	for _, e := range s.audit(t) {
		switch {
		case e.Action == "key.create" && e.Target == k1.Key.Key:
			sawCreate = true
		case e.Action == "key.revoke" && e.Target == k1.Key.Key:
			sawRevoke = true
		default:
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(e.Details, &d); err != nil || d["app_id"] != app.ID {
			t.Errorf("%s details = %s, want app_id %s", e.Action, e.Details, app.ID)
		}
	}
	if !sawCreate || !sawRevoke {
		t.Errorf("audit: key.create %v, key.revoke %v", sawCreate, sawRevoke)
	}
}

func TestImportKey(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)

	var k controlplane.NewKey
	s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/keys", map[string]string{
		"key": "pusher-key-1", "secret": "imported-secret-value",
	}).want(t, http.StatusCreated, &k)
	if k.Key.Key != "pusher-key-1" || k.Secret != "imported-secret-value" {
		t.Errorf("imported key = %+v", k)
	}
	tests := []struct {
		name, body, code, field string
		status                  int
	}{
		{"taken key", `{"key":"pusher-key-1"}`, "conflict", "", http.StatusConflict},
		{"bad key", `{"key":"a b"}`, "bad_request", "key", http.StatusBadRequest},
		{"short secret", `{"secret":"short"}`, "bad_request", "secret", http.StatusBadRequest},
		{"unknown field", `{"kid":"x"}`, "bad_request", "kid", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.do(t, http.MethodPost, "/admin/v1/apps/"+app.ID+"/keys", tt.body).wantError(t, tt.status, tt.code, tt.field)
		})
	}
}

func TestListKeysPaginates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	app := s.app(t, s.account(t, "a").ID, "web", nil)
	var want []string
	for range 5 {
		want = append(want, s.key(t, app.ID).Key.Key)
	}
	var got []string
	cursor := ""
	for {
		var l list[controlplane.Key]
		path := "/admin/v1/apps/" + app.ID + "/keys?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		s.do(t, http.MethodGet, path, nil).want(t, http.StatusOK, &l)
		for _, k := range l.Items {
			got = append(got, k.Key)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("paged keys = %v, want %v", got, want)
	}
}
