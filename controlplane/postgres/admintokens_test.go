package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestAdminTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)

	token, info, err := f.store.CreateAdminToken(ctx, "ci")
	if err != nil {
		t.Fatalf("create admin token: %v", err)
	}
	if !regexp.MustCompile(`^hat_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Error("token does not look like hat_<43 base64url>")
	}
	if !regexp.MustCompile(`^tok_[a-z2-7]{16}$`).MatchString(info.ID) || info.Name != "ci" ||
		info.CreatedAt.IsZero() || info.RevokedAt != nil {
		t.Errorf("token info = %+v", info)
	}

	// Only the SHA-256 is stored.
	var hash []byte
	if err := f.pool.QueryRow(ctx, "select token_hash from admin_tokens where id = $1", info.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(token)); !bytes.Equal(hash, sum[:]) {
		t.Error("stored hash is not sha256(token)")
	}

	got, err := f.store.VerifyAdminToken(ctx, token)
	if err != nil || got != info {
		t.Fatalf("verify = %+v, %v; want %+v", got, err, info)
	}

	other, otherInfo, err := f.store.CreateAdminToken(ctx, "other")
	if err != nil || other == token || otherInfo.ID == info.ID {
		t.Fatalf("second token: %v (same as first: %v)", err, other == token)
	}

	for name, bad := range map[string]string{
		"empty":          "",
		"well formed":    "hat_" + strings.Repeat("A", 43),
		"no prefix":      strings.TrimPrefix(token, "hat_"),
		"truncated":      token[:len(token)-1],
		"extended":       token + "x",
		"other prefix":   "xat_" + strings.TrimPrefix(token, "hat_"),
		"different case": strings.ToUpper(token),
	} {
		_, err := f.store.VerifyAdminToken(ctx, bad)
		if err == nil {
			t.Errorf("%s: verified", name)
			continue
		}
		wantError(t, err, channels.CodeUnauthorized, "")
	}

	if err := f.store.RevokeAdminToken(ctx, info.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, err = f.store.VerifyAdminToken(ctx, token)
	wantError(t, err, channels.CodeUnauthorized, "")
	if _, err := f.store.VerifyAdminToken(ctx, other); err != nil {
		t.Errorf("other token after revoking the first: %v", err)
	}
	if err := f.store.RevokeAdminToken(ctx, info.ID); err != nil {
		t.Errorf("revoke again: %v", err)
	}
	wantError(t, f.store.RevokeAdminToken(ctx, "tok_nope"), channels.CodeNotFound, "")

	list, err := f.store.ListAdminTokens(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list[0].ID != info.ID || list[0].RevokedAt == nil || list[1].ID != otherInfo.ID || list[1].RevokedAt != nil {
		t.Errorf("list = %+v", list)
	}

	_, _, err = f.store.CreateAdminToken(ctx, "")
	wantError(t, err, channels.CodeBadRequest, "name")
	if strings.Contains(f.logs.String(), token) || strings.Contains(f.logs.String(), other) {
		t.Error("token in the logs")
	}
}

func TestListAdminTokensEmpty(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	list, err := f.store.ListAdminTokens(context.Background())
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("list = %#v, %v; want empty", list, err)
	}
}
