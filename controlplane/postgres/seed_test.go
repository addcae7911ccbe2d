package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
)

func demoSeed() postgres.SeedApp {
	return postgres.SeedApp{
		AccountName: "Demo",
		AppID:       "demo",
		AppName:     "Demo app",
		Key:         "demo-key",
		Secret:      "demo-secret",
		Settings:    channels.SettingsPatch{ClientEvents: ptr(true)},
	}
}

// seedSnapshot is everything SeedApp may touch.
type seedSnapshot struct {
	Accounts []controlplane.Account
	App      controlplane.App
	Keys     []controlplane.Key
	Config   channels.AppConfig
}

func (f *fixture) seedSnapshot(tb testing.TB, appID string) seedSnapshot {
	tb.Helper()
	ctx := context.Background()
	var s seedSnapshot
	var err error
	if s.Accounts, _, err = f.store.ListAccounts(ctx, controlplane.Page{}); err != nil {
		tb.Fatal(err)
	}
	if s.App, err = f.store.GetApp(ctx, appID); err != nil {
		tb.Fatal(err)
	}
	if s.Keys, err = f.store.ListKeys(ctx, appID); err != nil {
		tb.Fatal(err)
	}
	if s.Config, err = f.store.AppConfig(ctx, appID); err != nil {
		tb.Fatal(err)
	}
	return s
}

func (f *fixture) seed(tb testing.TB, in postgres.SeedApp) {
	tb.Helper()
	if err := f.store.SeedApp(context.Background(), in); err != nil {
		tb.Fatalf("seed app: %v", err)
	}
}

// wantLiveSecret checks that the app's config has key, opening to secret.
func (f *fixture) wantLiveSecret(tb testing.TB, appID, key, secret string) {
	tb.Helper()
	c, err := f.store.AppConfig(context.Background(), appID)
	if err != nil {
		tb.Fatal(err)
	}
	k, ok := c.Key(key)
	if !ok {
		tb.Fatalf("key %s not live in %+v", key, c.Keys)
	}
	plain, err := f.box.Open(k.SealedSecret, channels.SecretAAD(appID, key))
	if err != nil || string(plain) != secret {
		tb.Fatalf("key %s opens to %q, %v; want %q", key, plain, err, secret)
	}
}

func TestSeedAppIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := demoSeed()

	f.seed(t, in)
	first := f.seedSnapshot(t, "demo")
	if len(first.Accounts) != 1 || first.Accounts[0].Name != "Demo" {
		t.Fatalf("accounts = %+v", first.Accounts)
	}
	want := channels.DefaultSettings()
	want.ClientEvents = true
	if a := first.App; a.AccountID != first.Accounts[0].ID || a.Name != "Demo app" || !a.Enabled ||
		!reflect.DeepEqual(a.Settings, want) {
		t.Errorf("app = %+v", a)
	}
	f.wantLiveSecret(t, "demo", "demo-key", "demo-secret")

	f.seed(t, in)
	if second := f.seedSnapshot(t, "demo"); !reflect.DeepEqual(second, first) {
		t.Errorf("second seed changed state:\n got %+v\nwant %+v", second, first)
	}
	if strings.Contains(f.logs.String(), in.Secret) {
		t.Error("secret in the logs")
	}
}

func TestSeedAppRepairs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	in := demoSeed()
	f.seed(t, in)
	base := f.seedSnapshot(t, "demo")

	// A changed secret is re-sealed.
	in.Secret = "another-secret"
	f.seed(t, in)
	f.wantLiveSecret(t, "demo", "demo-key", "another-secret")
	if s := f.seedSnapshot(t, "demo"); !s.App.UpdatedAt.After(base.App.UpdatedAt) {
		t.Error("updated_at unchanged after re-sealing")
	}

	// A revoked key is revived.
	if err := f.store.RevokeKey(ctx, "demo", "demo-key"); err != nil {
		t.Fatal(err)
	}
	f.seed(t, in)
	f.wantLiveSecret(t, "demo", "demo-key", "another-secret")
	// Every restore is in the audit log and warned of; the first seed,
	// which created the app, is not a restore.
	audit, _, err := f.store.ListAudit(ctx, controlplane.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var restores []string
	for _, e := range audit {
		if e.Action == "app.seed_restore" && e.Actor == "system:seed" && e.Target == "demo" {
			restores = append(restores, string(e.Details))
		}
	}
	if want := []string{`{"key": "demo-key", "restored": ["key"]}`, `{"key": "demo-key", "restored": ["key"]}`}; !reflect.DeepEqual(restores, want) {
		t.Errorf("seed restores in the audit log = %q; want %q", restores, want)
	}
	if n := strings.Count(f.logs.String(), "restored the seeded app"); n != 2 {
		t.Errorf("%d restore warnings; want 2", n)
	}

	// The settings patch applies over the current settings; what the
	// patch does not name is left alone.
	if _, err := f.store.UpdateApp(ctx, "demo", controlplane.AppPatch{
		Name:     ptr("renamed"),
		Settings: channels.SettingsPatch{MaxConnections: ptr(3)},
	}); err != nil {
		t.Fatal(err)
	}
	in.Settings = channels.SettingsPatch{ClientEventRate: ptr(7)}
	f.seed(t, in)
	s := f.seedSnapshot(t, "demo")
	if s.App.Name != "renamed" || s.App.Settings.MaxConnections != 3 || s.App.Settings.ClientEventRate != 7 ||
		!s.App.Settings.ClientEvents {
		t.Errorf("app after seed = %+v", s.App)
	}
	if len(s.Accounts) != 1 || len(s.Keys) != 1 {
		t.Errorf("seed duplicated rows: %+v %+v", s.Accounts, s.Keys)
	}
	f.seed(t, in)
	if again := f.seedSnapshot(t, "demo"); !reflect.DeepEqual(again, s) {
		t.Errorf("seed after repair is not a no-op:\n got %+v\nwant %+v", again, s)
	}
}

func TestSeedAppErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "other")
	f.keys(t, "other", "stolen")

	cases := []struct {
		name   string
		modify func(*postgres.SeedApp)
		code   channels.Code
		field  string
	}{
		{"key of another app", func(s *postgres.SeedApp) { s.Key = "stolen" }, channels.CodeConflict, ""},
		{"bad app id", func(s *postgres.SeedApp) { s.AppID = "no way" }, channels.CodeBadRequest, "id"},
		{"bad key", func(s *postgres.SeedApp) { s.Key = "" }, channels.CodeBadRequest, "key"},
		{"bad secret", func(s *postgres.SeedApp) { s.Secret = "short" }, channels.CodeBadRequest, "secret"},
		{"no account name", func(s *postgres.SeedApp) { s.AccountName = "" }, channels.CodeBadRequest, "account_name"},
		{"no app name", func(s *postgres.SeedApp) { s.AppName = "" }, channels.CodeBadRequest, "name"},
		{"bad setting", func(s *postgres.SeedApp) { s.Settings.CacheTTLS = ptr(0) }, channels.CodeBadRequest, "settings.cache_ttl_s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := demoSeed()
			c.modify(&in)
			wantError(t, f.store.SeedApp(ctx, in), c.code, c.field)
		})
	}
	// Failed seeds leave nothing behind.
	if ids, err := f.store.AppIDs(ctx); err != nil || !reflect.DeepEqual(ids, []string{"other"}) {
		t.Errorf("apps = %v, %v", ids, err)
	}
	if accs, _, err := f.store.ListAccounts(ctx, controlplane.Page{}); err != nil || len(accs) != 1 {
		t.Errorf("accounts = %+v, %v", accs, err)
	}
}

func TestSeedAppConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = f.store.SeedApp(context.Background(), demoSeed()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent seeds: %v", err)
	}
	s := f.seedSnapshot(t, "demo")
	if len(s.Accounts) != 1 || len(s.Keys) != 1 {
		t.Errorf("concurrent seeds made %d accounts and %d keys", len(s.Accounts), len(s.Keys))
	}
}
