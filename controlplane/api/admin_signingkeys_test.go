package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestAdminSigningKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const base = "/admin/v1/signing-keys"

	var l list[controlplane.SigningKey]
	s.do(t, http.MethodGet, base, nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 0 {
		t.Fatalf("fresh database lists %+v", l.Items)
	}
	var first, second controlplane.SigningKey
	s.do(t, http.MethodPost, base+"/rotate", nil).want(t, http.StatusCreated, &first)
	s.do(t, http.MethodPost, base+"/rotate", nil).want(t, http.StatusCreated, &second)
	if !first.Active || !second.Active || len(second.PublicKey) != 32 || first.KID == second.KID {
		t.Fatalf("rotated %+v then %+v", first, second)
	}
	if calls := s.pub.take(); len(calls) != 2 || calls[0] != signingKeysSynced {
		t.Errorf("publisher calls after two rotations = %v", calls)
	}

	s.do(t, http.MethodGet, base+"?limit=1", nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].KID != second.KID || !l.Items[0].Active || l.NextCursor == nil {
		t.Fatalf("first page = %+v", l)
	}
	s.do(t, http.MethodGet, base+"?cursor="+*l.NextCursor, nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].KID != first.KID || l.Items[0].Active {
		t.Fatalf("second page = %+v", l)
	}

	// Retire the signer (POST form): the older key signs again, and it
	// is then the last live key, which cannot be retired (DELETE form).
	s.do(t, http.MethodPost, base+"/"+second.KID+"/retire", nil).want(t, http.StatusNoContent, nil)
	s.do(t, http.MethodDelete, base+"/"+second.KID, nil).want(t, http.StatusNoContent, nil)
	s.do(t, http.MethodDelete, base+"/"+first.KID, nil).wantError(t, http.StatusConflict, "conflict", "")
	s.do(t, http.MethodPost, base+"/sk_none/retire", nil).wantError(t, http.StatusNotFound, "not_found", "")
	s.do(t, http.MethodGet, base, nil).want(t, http.StatusOK, &l)
	if len(l.Items) != 2 || l.Items[0].RetiredAt == nil || !l.Items[1].Active {
		t.Fatalf("after retire = %+v", l.Items)
	}
	if calls := s.pub.take(); len(calls) != 2 {
		t.Errorf("publisher calls after two successful retirements = %v", calls)
	}

	var actions []string
	for _, e := range s.audit(t) {
		if e.Target == first.KID || e.Target == second.KID {
			actions = append(actions, e.Action+" "+e.Target)
		}
	}
	want := []string{"signing_key.retire " + second.KID, "signing_key.retire " + second.KID,
		"signing_key.rotate " + second.KID, "signing_key.rotate " + first.KID}
	if !slices.Equal(actions, want) {
		t.Errorf("audit = %v, want %v", actions, want)
	}

	s.doAs(t, "", http.MethodPost, base+"/rotate", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}
