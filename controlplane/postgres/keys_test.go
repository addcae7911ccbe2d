package postgres_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestCreateKeyGenerated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	app := f.app(t, f.account(t, "acme").ID, "a1")

	k := f.key(t, "a1", "", "")
	if !regexp.MustCompile(`^[0-9a-f]{20}$`).MatchString(k.Key.Key) {
		t.Errorf("generated key %q", k.Key.Key)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(k.Secret) {
		t.Error("generated secret is not 32 lowercase hex characters")
	}
	if k.AppID != "a1" || k.CreatedAt.IsZero() || k.RevokedAt != nil {
		t.Errorf("key = %+v", k.Key)
	}
	if k2 := f.key(t, "a1", "", ""); k2.Key.Key == k.Key.Key || k2.Secret == k.Secret {
		t.Error("two generated keys or secrets are equal")
	}

	// Creating a key changes the app's effective config.
	after, err := f.store.GetApp(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if !after.UpdatedAt.After(app.UpdatedAt) {
		t.Errorf("updated_at %v not after %v", after.UpdatedAt, app.UpdatedAt)
	}
}

func TestSealedSecretAtRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.apps(t, "a1", "a2")
	const secret = "my-very-own-secret"
	f.key(t, "a1", "k1", secret)

	sealed := f.sealedSecret(t, "k1")
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("stored bytes contain the secret in clear")
	}
	plain, err := f.box.Open(sealed, channels.SecretAAD("a1", "k1"))
	if err != nil || string(plain) != secret {
		t.Fatalf("open with the right AAD = %q, %v", plain, err)
	}
	for _, aad := range [][]byte{channels.SecretAAD("a2", "k1"), channels.SecretAAD("a1", "k2")} {
		if _, err := f.box.Open(sealed, aad); err == nil {
			t.Errorf("sealed secret opens with AAD %q", aad)
		}
	}
	if strings.Contains(f.logs.String(), secret) {
		t.Error("secret in the logs")
	}
}

func TestCreateKeyErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1", "a2")
	f.keys(t, "a1", "taken")

	cases := []struct {
		name, app, key, secret string
		code                   channels.Code
		field                  string
	}{
		{"bad key", "a1", "bad key", "", channels.CodeBadRequest, "key"},
		{"key too long", "a1", strings.Repeat("k", 65), "", channels.CodeBadRequest, "key"},
		{"secret too short", "a1", "k", "1234567", channels.CodeBadRequest, "secret"},
		{"secret too long", "a1", "k", strings.Repeat("s", 129), channels.CodeBadRequest, "secret"},
		{"secret with space", "a1", "k", "has a space", channels.CodeBadRequest, "secret"},
		{"secret with control", "a1", "k", "tab\there!", channels.CodeBadRequest, "secret"},
		{"secret not ascii", "a1", "k", "sécret-long", channels.CodeBadRequest, "secret"},
		{"duplicate key same app", "a1", "taken", "", channels.CodeConflict, ""},
		{"duplicate key other app", "a2", "taken", "", channels.CodeConflict, ""},
		{"unknown app", "nope", "k", "", channels.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.store.CreateKey(ctx, c.app, c.key, c.secret)
			wantError(t, err, c.code, c.field)
		})
	}
	for _, secret := range []string{"12345678", strings.Repeat("~", 128), `!"#$%&'()*+,-./:;<=>?@[\]^_{|}`} {
		if _, err := f.store.CreateKey(ctx, "a2", "", secret); err != nil {
			t.Errorf("secret %q: %v", secret, err)
		}
	}
}

func TestListKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1", "empty")
	want := []string{f.key(t, "a1", "zz", "").Key.Key, f.key(t, "a1", "aa", "").Key.Key, f.key(t, "a1", "", "").Key.Key}

	keys, err := f.store.ListKeys(ctx, "a1")
	if err != nil {
		t.Fatalf("list keys: %v", err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Key)
		if k.AppID != "a1" || k.RevokedAt != nil {
			t.Errorf("key = %+v", k)
		}
	}
	// Oldest first: each key was created in its own statement.
	if !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}

	empty, err := f.store.ListKeys(ctx, "empty")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("keys of an app without keys = %#v (%v), want empty", empty, err)
	}
	_, err = f.store.ListKeys(ctx, "nope")
	wantError(t, err, channels.CodeNotFound, "")
}

func TestRevokeKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "a1", "a2")
	f.keys(t, "a1", "old", "new")
	f.keys(t, "a2", "other")

	before, err := f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before.Key("old"); !ok || len(before.Keys) != 2 {
		t.Fatalf("config keys before revoke = %+v", before.Keys)
	}

	if err := f.store.RevokeKey(ctx, "a1", "old"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	after, err := f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := after.Key("old"); ok || len(after.Keys) != 1 {
		t.Errorf("config keys after revoke = %+v, want only new", after.Keys)
	}
	if !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("config updated_at %v not after %v", after.UpdatedAt, before.UpdatedAt)
	}

	revokedAt := func() controlplane.Key {
		t.Helper()
		keys, err := f.store.ListKeys(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Key == "old" {
				return k
			}
		}
		t.Fatal("revoked key not listed")
		return controlplane.Key{}
	}
	first := revokedAt()
	if first.RevokedAt == nil {
		t.Fatal("revoked key has no revoked_at")
	}

	// Revoking again is fine and keeps the first time.
	if err := f.store.RevokeKey(ctx, "a1", "old"); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	if again := revokedAt(); !again.RevokedAt.Equal(*first.RevokedAt) {
		t.Errorf("revoked_at moved: %v -> %v", first.RevokedAt, again.RevokedAt)
	}

	wantError(t, f.store.RevokeKey(ctx, "a1", "never"), channels.CodeNotFound, "")
	wantError(t, f.store.RevokeKey(ctx, "a1", "other"), channels.CodeNotFound, "")
	wantError(t, f.store.RevokeKey(ctx, "nope", "old"), channels.CodeNotFound, "")
	// The revoked key name stays taken.
	_, err = f.store.CreateKey(ctx, "a1", "old", "")
	wantError(t, err, channels.CodeConflict, "")
}

func TestAppConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "acme")
	app, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "Chat",
		Settings: channels.SettingsPatch{ClientEvents: ptr(true)}})
	if err != nil {
		t.Fatal(err)
	}

	c, err := f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatalf("app config: %v", err)
	}
	if c.ID != "a1" || c.AccountID != acc.ID || c.Name != "Chat" || !c.Enabled || c.Shard != 0 ||
		!c.Settings.ClientEvents || !c.UpdatedAt.Equal(app.UpdatedAt) {
		t.Errorf("config = %+v", c)
	}
	if c.Keys == nil || len(c.Keys) != 0 {
		t.Errorf("keys of an app without keys = %#v, want empty", c.Keys)
	}

	k1 := f.key(t, "a1", "k1", "secret-one")
	k2 := f.key(t, "a1", "k2", "secret-two")
	c, err = f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys) != 2 {
		t.Fatalf("keys = %+v", c.Keys)
	}
	for _, nk := range []controlplane.NewKey{k1, k2} {
		ak, ok := c.Key(nk.Key.Key)
		if !ok {
			t.Fatalf("key %s missing", nk.Key.Key)
		}
		plain, err := f.box.Open(ak.SealedSecret, channels.SecretAAD("a1", nk.Key.Key))
		if err != nil || string(plain) != nk.Secret {
			t.Errorf("key %s opens to %q, %v", nk.Key.Key, plain, err)
		}
	}

	if _, err := f.store.UpdateApp(ctx, "a1", controlplane.AppPatch{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if c, err = f.store.AppConfig(ctx, "a1"); err != nil || c.Enabled {
		t.Errorf("disabled app config: enabled=%v err=%v", c.Enabled, err)
	}

	_, err = f.store.AppConfig(ctx, "nope")
	wantError(t, err, channels.CodeNotFound, "")
}
