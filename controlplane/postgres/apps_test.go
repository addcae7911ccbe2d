package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func ptr[T any](v T) *T { return &v }

// randomText returns n random hex digits.
func randomText(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func TestCreateApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "acme")

	a, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: "My_app-1", AccountID: acc.ID, Name: "Chat"})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	if a.ID != "My_app-1" || a.AccountID != acc.ID || a.Name != "Chat" || !a.Enabled {
		t.Errorf("app = %+v", a)
	}
	if !reflect.DeepEqual(a.Settings, channels.DefaultSettings()) {
		t.Errorf("settings = %+v, want defaults", a.Settings)
	}
	if a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Errorf("times: created %v updated %v", a.CreatedAt, a.UpdatedAt)
	}
	got, err := f.store.GetApp(ctx, a.ID)
	if err != nil {
		t.Fatalf("get app: %v", err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("get app = %+v, want %+v", got, a)
	}

	gen, err := f.store.CreateApp(ctx, controlplane.NewApp{
		AccountID: acc.ID,
		Name:      "generated",
		Settings: channels.SettingsPatch{
			ClientEvents:   ptr(true),
			MaxConnections: ptr(42),
			AllowedOrigins: ptr([]string{"https://example.com"}),
		},
	})
	if err != nil {
		t.Fatalf("create app with generated id: %v", err)
	}
	if !regexp.MustCompile(`^[a-z0-9]{12}$`).MatchString(gen.ID) {
		t.Errorf("generated app id %q", gen.ID)
	}
	want := channels.DefaultSettings()
	want.ClientEvents, want.MaxConnections, want.AllowedOrigins = true, 42, []string{"https://example.com"}
	if !reflect.DeepEqual(gen.Settings, want) {
		t.Errorf("settings = %+v, want %+v", gen.Settings, want)
	}
	got, err = f.store.GetApp(ctx, gen.ID)
	if err != nil || !reflect.DeepEqual(got.Settings, want) {
		t.Errorf("stored settings = %+v (%v), want %+v", got.Settings, err, want)
	}
}

func TestCreateAppErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.apps(t, "taken")

	cases := []struct {
		name  string
		in    controlplane.NewApp
		code  channels.Code
		field string
		msg   string
	}{
		{"duplicate id", controlplane.NewApp{ID: "taken", AccountID: acc.ID, Name: "x"},
			channels.CodeConflict, "", "app id taken already exists"},
		{"unknown account", controlplane.NewApp{ID: "a1", AccountID: "acc_nope", Name: "x"},
			channels.CodeBadRequest, "account_id", "account not found"},
		// Random, so that the index cannot compress it under its
		// entry limit: a 500 once.
		{"account id longer than an index entry", controlplane.NewApp{ID: "a1", AccountID: randomText(4000), Name: "x"},
			channels.CodeBadRequest, "account_id", "account not found"},
		{"no account", controlplane.NewApp{ID: "a1", Name: "x"},
			channels.CodeBadRequest, "account_id", ""},
		{"bad id", controlplane.NewApp{ID: "bad id!", AccountID: acc.ID, Name: "x"},
			channels.CodeBadRequest, "id", ""},
		{"id too long", controlplane.NewApp{ID: strings.Repeat("a", channels.MaxAppIDLen+1), AccountID: acc.ID, Name: "x"},
			channels.CodeBadRequest, "id", ""},
		{"empty name", controlplane.NewApp{ID: "a1", AccountID: acc.ID},
			channels.CodeBadRequest, "name", ""},
		{"name too long", controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: strings.Repeat("n", channels.MaxNameLen+1)},
			channels.CodeBadRequest, "name", ""},
		{"bad setting", controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "x",
			Settings: channels.SettingsPatch{MaxMessageBytes: ptr(0)}},
			channels.CodeBadRequest, "settings.max_message_bytes", ""},
		{"bad origins", controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "x",
			Settings: channels.SettingsPatch{AllowedOrigins: ptr([]string{""})}},
			channels.CodeBadRequest, "settings.allowed_origins[0]", ""},
		{"origin with a trailing slash", controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "x",
			Settings: channels.SettingsPatch{AllowedOrigins: ptr([]string{"https://a.example", "https://b.example/"})}},
			channels.CodeBadRequest, "settings.allowed_origins[1]", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.store.CreateApp(ctx, c.in)
			de := wantError(t, err, c.code, c.field)
			if c.msg != "" && de.Message != c.msg {
				t.Errorf("message = %q, want %q", de.Message, c.msg)
			}
		})
	}
	if ids, err := f.store.AppIDs(ctx); err != nil || !slices.Equal(ids, []string{"taken"}) {
		t.Errorf("app ids after failed creates = %v (%v), want [taken]", ids, err)
	}
}

func TestGetAppNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := f.store.GetApp(context.Background(), "nope")
	if de := wantError(t, err, channels.CodeNotFound, ""); de.Message != "app nope not found" {
		t.Errorf("message = %q", de.Message)
	}
}

func TestUpdateApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "acme")
	orig, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "one",
		Settings: channels.SettingsPatch{MaxConnections: ptr(10)}})
	if err != nil {
		t.Fatal(err)
	}

	got, err := f.store.UpdateApp(ctx, "a1", controlplane.AppPatch{
		Name:     ptr("renamed"),
		Enabled:  ptr(false),
		Settings: channels.SettingsPatch{ClientEventRate: ptr(5)},
	})
	if err != nil {
		t.Fatalf("update app: %v", err)
	}
	want := orig
	want.Name, want.Enabled = "renamed", false
	want.Settings.ClientEventRate = 5 // MaxConnections stays 10
	want.UpdatedAt = got.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("updated = %+v, want %+v", got, want)
	}
	if got.UpdatedAt.Before(orig.UpdatedAt) {
		t.Errorf("updated_at went back: %v -> %v", orig.UpdatedAt, got.UpdatedAt)
	}
	if stored, _ := f.store.GetApp(ctx, "a1"); !reflect.DeepEqual(stored, got) {
		t.Errorf("stored = %+v, want %+v", stored, got)
	}

	// An empty patch changes nothing but is allowed.
	if _, err := f.store.UpdateApp(ctx, "a1", controlplane.AppPatch{}); err != nil {
		t.Errorf("empty patch: %v", err)
	}

	_, err = f.store.UpdateApp(ctx, "a1", controlplane.AppPatch{
		Name:     ptr("not applied"),
		Settings: channels.SettingsPatch{ActivityTimeoutS: ptr(channels.MaxActivityTimeoutS + 1)},
	})
	wantError(t, err, channels.CodeBadRequest, "settings.activity_timeout_s")
	if stored, _ := f.store.GetApp(ctx, "a1"); stored.Name != "renamed" {
		t.Errorf("rejected update was stored: %+v", stored)
	}

	_, err = f.store.UpdateApp(ctx, "a1", controlplane.AppPatch{Name: ptr("")})
	wantError(t, err, channels.CodeBadRequest, "name")
	_, err = f.store.UpdateApp(ctx, "nope", controlplane.AppPatch{Enabled: ptr(true)})
	wantError(t, err, channels.CodeNotFound, "")
}

func TestListAppsPagesAndFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	accA, accB := f.account(t, "a"), f.account(t, "b")
	// Ids whose bytewise order differs from a locale's order.
	idsA := []string{"Zeta", "alpha", "_under", "-dash", "B2", "b1"}
	idsB := []string{"beta", "Gamma", "9nine"}
	for _, id := range idsA {
		f.app(t, accA.ID, id)
	}
	for _, id := range idsB {
		f.app(t, accB.ID, id)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(idsA), idsB...)))
	sortedA := slices.Sorted(slices.Values(idsA))

	if got, want := appPages(t, f, controlplane.AppFilter{}, 4), [][]string{all[0:4], all[4:8], all[8:9]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("all apps by 4 = %v, want %v", got, want)
	}
	if got, want := appPages(t, f, controlplane.AppFilter{AccountID: accA.ID}, 2), [][]string{sortedA[0:2], sortedA[2:4], sortedA[4:6]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("account a by 2 = %v, want %v", got, want)
	}
	if got := appPages(t, f, controlplane.AppFilter{AccountID: "acc_unknown"}, 0); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("unknown account = %v, want one empty page", got)
	}
	ids, err := f.store.AppIDs(ctx)
	if err != nil || !slices.Equal(ids, all) {
		t.Errorf("app ids = %v (%v), want %v", ids, err, all)
	}
}

// appPages lists the apps that filter selects, limit by limit, and returns
// the ids of each page.
func appPages(tb testing.TB, f *fixture, filter controlplane.AppFilter, limit int) [][]string {
	tb.Helper()
	var out [][]string
	cursor := ""
	for range 20 {
		items, next, err := f.store.ListApps(context.Background(), filter, controlplane.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			tb.Fatalf("list apps %+v: %v", filter, err)
		}
		ids := []string{}
		for _, a := range items {
			if filter.AccountID != "" && a.AccountID != filter.AccountID {
				tb.Errorf("app %s of account %s listed for %s", a.ID, a.AccountID, filter.AccountID)
			}
			ids = append(ids, a.ID)
		}
		out = append(out, ids)
		if next == "" {
			return out
		}
		cursor = next
	}
	tb.Fatal("pagination does not end")
	return nil
}

func TestDeleteAppRemovesKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.apps(t, "gone", "stays")
	f.keys(t, "gone", "k1", "k2")
	f.keys(t, "stays", "k3")

	if err := f.store.DeleteApp(ctx, "gone"); err != nil {
		t.Fatalf("delete app: %v", err)
	}
	_, err := f.store.GetApp(ctx, "gone")
	wantError(t, err, channels.CodeNotFound, "")
	var keys int
	if err := f.pool.QueryRow(ctx, "select count(*) from app_keys where app_id = 'gone'").Scan(&keys); err != nil || keys != 0 {
		t.Errorf("keys left of deleted app: %d (%v)", keys, err)
	}
	if ks, err := f.store.ListKeys(ctx, "stays"); err != nil || len(ks) != 1 {
		t.Errorf("other app's keys = %v (%v)", ks, err)
	}
	wantError(t, f.store.DeleteApp(ctx, "gone"), channels.CodeNotFound, "")
	// The key name is free again.
	f.app(t, acc.ID, "new")
	f.key(t, "new", "k1", "")
}

func TestStoredSettingsTakeDefaultsForMissingFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.apps(t, "old")
	// A row written before most settings existed.
	if _, err := f.pool.Exec(ctx, `update apps set settings = '{"max_connections": 7}' where id = 'old'`); err != nil {
		t.Fatal(err)
	}
	want := channels.DefaultSettings()
	want.MaxConnections = 7
	a, err := f.store.GetApp(ctx, "old")
	if err != nil || !reflect.DeepEqual(a.Settings, want) {
		t.Errorf("settings = %+v (%v), want %+v", a.Settings, err, want)
	}
	c, err := f.store.AppConfig(ctx, "old")
	if err != nil || !reflect.DeepEqual(c.Settings, want) {
		t.Errorf("config settings = %+v (%v), want %+v", c.Settings, err, want)
	}
}

// TestStoredOriginsFromBeforeTheirRule: origins stored before allowed
// origins were checked (a trailing slash, "*") still load, in the app and
// in its config, and do not stop other changes; replacing them is checked.
func TestStoredOriginsFromBeforeTheirRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.apps(t, "old")
	stored := []string{"https://app.example/", "*"}
	if _, err := f.pool.Exec(ctx, `update apps set settings = jsonb_set(settings, '{allowed_origins}', $1::jsonb) where id = 'old'`,
		`["https://app.example/","*"]`); err != nil {
		t.Fatal(err)
	}
	if a, err := f.store.GetApp(ctx, "old"); err != nil || !slices.Equal(a.Settings.AllowedOrigins, stored) {
		t.Fatalf("get = %v (%v), want origins %q", a.Settings.AllowedOrigins, err, stored)
	}
	if c, err := f.store.AppConfig(ctx, "old"); err != nil || !slices.Equal(c.Settings.AllowedOrigins, stored) {
		t.Fatalf("config = %v (%v), want origins %q", c.Settings.AllowedOrigins, err, stored)
	}
	if l, _, err := f.store.ListApps(ctx, controlplane.AppFilter{AccountID: acc.ID}, controlplane.Page{}); err != nil || len(l) != 1 {
		t.Fatalf("list = %v (%v)", l, err)
	}
	a, err := f.store.UpdateApp(ctx, "old", controlplane.AppPatch{Settings: channels.SettingsPatch{MaxConnections: ptr(3)}})
	if err != nil || a.Settings.MaxConnections != 3 || !slices.Equal(a.Settings.AllowedOrigins, stored) {
		t.Fatalf("update of another setting = %+v (%v)", a.Settings, err)
	}
	_, err = f.store.UpdateApp(ctx, "old", controlplane.AppPatch{
		Settings: channels.SettingsPatch{AllowedOrigins: ptr([]string{"https://app.example", "https://app.example/"})}})
	wantError(t, err, channels.CodeBadRequest, "settings.allowed_origins[1]")
	a, err = f.store.UpdateApp(ctx, "old", controlplane.AppPatch{
		Settings: channels.SettingsPatch{AllowedOrigins: ptr([]string{"https://app.example"})}})
	if err != nil || !slices.Equal(a.Settings.AllowedOrigins, []string{"https://app.example"}) {
		t.Fatalf("fixed origins = %v (%v)", a.Settings.AllowedOrigins, err)
	}
}
