package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func (f *fixture) plan(tb testing.TB, in controlplane.NewPlan) billing.Plan {
	tb.Helper()
	if in.Enforcement == "" {
		in.Enforcement = channels.EnforceHard
	}
	p, err := f.store.CreatePlan(context.Background(), in)
	if err != nil {
		tb.Fatalf("create plan %q: %v", in.Name, err)
	}
	return p
}

func i64(v int64) *int64 { return &v }

func TestPlanCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)

	p := f.plan(t, controlplane.NewPlan{Name: "Starter", Enforcement: channels.EnforceSoft,
		Limits: billing.LimitsPatch{MaxMessagesPerDay: i64(1000), MaxMessageBytes: i64(2048)}})
	if !regexp.MustCompile(`^pln_[a-z2-7]{16}$`).MatchString(p.ID) {
		t.Errorf("plan id %q does not look like pln_<16 base32>", p.ID)
	}
	want := billing.Limits{MaxMessagesPerDay: 1000, MaxMessageBytes: 2048}
	if p.Name != "Starter" || p.Enforcement != channels.EnforceSoft || p.Limits != want ||
		p.CreatedAt.IsZero() || p.CreatedAt.Location() != time.UTC {
		t.Errorf("created plan = %+v", p)
	}
	got, err := f.store.GetPlan(ctx, p.ID)
	if err != nil || got != p {
		t.Errorf("get plan = %+v, %v; want %+v", got, err, p)
	}
	for _, key := range []string{p.ID, "Starter"} {
		if got, err := f.store.FindPlan(ctx, key); err != nil || got.ID != p.ID {
			t.Errorf("find plan %q = %+v, %v", key, got, err)
		}
	}
	_, err = f.store.FindPlan(ctx, "nothing")
	wantError(t, err, channels.CodeNotFound, "")

	named := f.plan(t, controlplane.NewPlan{ID: "dev", Name: "dev"})
	if named.ID != "dev" || named.Limits != (billing.Limits{}) {
		t.Errorf("named plan = %+v", named)
	}

	hard := channels.EnforceHard
	name := "Starter 2"
	up, err := f.store.UpdatePlan(ctx, p.ID, controlplane.PlanPatch{Name: &name, Enforcement: &hard,
		Limits: billing.LimitsPatch{MaxMessagesPerDay: i64(0), PublishRate: i64(5)}})
	if err != nil {
		t.Fatal(err)
	}
	want = billing.Limits{MaxMessageBytes: 2048, PublishRate: 5}
	if up.Name != name || up.Enforcement != hard || up.Limits != want || up.UpdatedAt.Before(p.UpdatedAt) {
		t.Errorf("updated plan = %+v", up)
	}

	items, next, err := f.store.ListPlans(ctx, controlplane.Page{Limit: 1})
	if err != nil || len(items) != 1 || items[0].ID != "dev" || next == "" {
		t.Fatalf("first page = %+v, %q, %v", items, next, err)
	}
	items, next, err = f.store.ListPlans(ctx, controlplane.Page{Limit: 1, Cursor: next})
	if err != nil || len(items) != 1 || items[0].ID != p.ID || next != "" {
		t.Fatalf("second page = %+v, %q, %v", items, next, err)
	}

	if err := f.store.DeletePlan(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.store.GetPlan(ctx, p.ID)
	wantError(t, err, channels.CodeNotFound, "")
	wantError(t, f.store.DeletePlan(ctx, p.ID), channels.CodeNotFound, "")
	_, err = f.store.UpdatePlan(ctx, p.ID, controlplane.PlanPatch{Name: &name})
	wantError(t, err, channels.CodeNotFound, "")
}

func TestPlanValidationAndConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := f.plan(t, controlplane.NewPlan{ID: "pro", Name: "Pro"})

	tests := []struct {
		name  string
		in    controlplane.NewPlan
		code  channels.Code
		field string
	}{
		{"no name", controlplane.NewPlan{Enforcement: "hard"}, channels.CodeBadRequest, "name"},
		{"bad enforcement", controlplane.NewPlan{Name: "x", Enforcement: "strict"}, channels.CodeBadRequest, "enforcement"},
		{"negative limit", controlplane.NewPlan{Name: "x", Enforcement: "hard",
			Limits: billing.LimitsPatch{MaxConnections: i64(-1)}}, channels.CodeBadRequest, "limits.max_connections"},
		{"absurd limit", controlplane.NewPlan{Name: "x", Enforcement: "hard",
			Limits: billing.LimitsPatch{MaxMessagesPerMonth: i64(billing.MaxPlanMessages + 1)}}, channels.CodeBadRequest, "limits.max_messages_per_month"},
		{"bad id", controlplane.NewPlan{ID: "a b", Name: "x", Enforcement: "hard"}, channels.CodeBadRequest, "id"},
		{"name taken", controlplane.NewPlan{Name: "Pro", Enforcement: "hard"}, channels.CodeConflict, ""},
		{"id taken", controlplane.NewPlan{ID: "pro", Name: "Other", Enforcement: "hard"}, channels.CodeConflict, ""},
	}
	for _, tt := range tests {
		_, err := f.store.CreatePlan(ctx, tt.in)
		wantError(t, err, tt.code, tt.field)
	}

	other := f.plan(t, controlplane.NewPlan{Name: "Other"})
	_, err := f.store.UpdatePlan(ctx, other.ID, controlplane.PlanPatch{Name: &p.Name})
	if de := wantError(t, err, channels.CodeConflict, ""); !strings.Contains(de.Message, `"Pro"`) {
		t.Errorf("conflict message = %q", de.Message)
	}
	_, err = f.store.UpdatePlan(ctx, other.ID, controlplane.PlanPatch{Limits: billing.LimitsPatch{PublishRate: i64(-3)}})
	wantError(t, err, channels.CodeBadRequest, "limits.publish_rate")
	if got, _ := f.store.GetPlan(ctx, other.ID); got != other {
		t.Errorf("a refused update changed the plan: %+v", got)
	}
}

func TestAccountPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := f.plan(t, controlplane.NewPlan{ID: "pro", Name: "Pro"})
	acc := f.account(t, "acme")
	if acc.PlanID != nil {
		t.Errorf("new account has plan %v", *acc.PlanID)
	}
	if _, ok, err := f.store.AccountPlan(ctx, acc.ID); ok || err != nil {
		t.Errorf("plan of an account without one: ok=%v err=%v", ok, err)
	}

	got, err := f.store.SetAccountPlan(ctx, acc.ID, p.ID)
	if err != nil || got.PlanID == nil || *got.PlanID != p.ID {
		t.Fatalf("set plan = %+v, %v", got, err)
	}
	if read, _ := f.store.GetAccount(ctx, acc.ID); read.PlanID == nil || *read.PlanID != p.ID {
		t.Errorf("get account after set plan = %+v", read)
	}
	if plan, ok, err := f.store.AccountPlan(ctx, acc.ID); !ok || err != nil || plan != p {
		t.Errorf("account plan = %+v, %v, %v", plan, ok, err)
	}
	if n, err := f.store.PlanAccountCount(ctx, p.ID); n != 1 || err != nil {
		t.Errorf("accounts on plan = %d, %v", n, err)
	}

	second, err := f.store.CreateAccountOnPlan(ctx, "beta", p.ID)
	if err != nil || second.PlanID == nil || *second.PlanID != p.ID {
		t.Fatalf("create account on plan = %+v, %v", second, err)
	}
	de := wantError(t, f.store.DeletePlan(ctx, p.ID), channels.CodeConflict, "")
	if !strings.Contains(de.Message, "2 account") {
		t.Errorf("delete plan in use: %q does not say how many accounts use it", de.Message)
	}

	for _, bad := range []string{"missing", strings.Repeat("x", 3000)} {
		_, err = f.store.SetAccountPlan(ctx, acc.ID, bad)
		wantError(t, err, channels.CodeBadRequest, "plan_id")
		_, err = f.store.CreateAccountOnPlan(ctx, "gamma", bad)
		wantError(t, err, channels.CodeBadRequest, "plan_id")
	}
	_, err = f.store.SetAccountPlan(ctx, "acc_missing", p.ID)
	wantError(t, err, channels.CodeNotFound, "")
	_, _, err = f.store.AccountPlan(ctx, "acc_missing")
	wantError(t, err, channels.CodeNotFound, "")

	got, err = f.store.SetAccountPlan(ctx, acc.ID, "")
	if err != nil || got.PlanID != nil {
		t.Fatalf("remove plan = %+v, %v", got, err)
	}
	if _, err := f.store.SetAccountPlan(ctx, second.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeletePlan(ctx, p.ID); err != nil {
		t.Errorf("delete a plan no account uses: %v", err)
	}
}

func TestPlanAppIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := f.plan(t, controlplane.NewPlan{ID: "pro", Name: "Pro"})
	on := f.apps(t, "b1", "a1")
	f.apps(t, "c1")
	if _, err := f.store.SetAccountPlan(ctx, on.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.store.PlanAppIDs(ctx, p.ID); err != nil || !slices.Equal(ids, []string{"a1", "b1"}) {
		t.Errorf("plan app ids = %v, %v", ids, err)
	}
	if ids, err := f.store.AccountAppIDs(ctx, on.ID); err != nil || !slices.Equal(ids, []string{"a1", "b1"}) {
		t.Errorf("account app ids = %v, %v", ids, err)
	}
	if ids, err := f.store.PlanAppIDs(ctx, "other"); err != nil || len(ids) != 0 {
		t.Errorf("apps of an unused plan = %v, %v", ids, err)
	}
}

// TestAppConfigWithPlan checks the effective config: the plan's quota,
// and its per-app limits lowering the app's settings where stricter, while
// the app's stored settings stay as set.
func TestAppConfigWithPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "acme")
	app, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: "a1", AccountID: acc.ID, Name: "a1",
		Settings: channels.SettingsPatch{ClientEventRate: ptr(5), MaxConnections: ptr(50)}})
	if err != nil {
		t.Fatal(err)
	}
	f.keys(t, "a1", "k1")
	before, err := f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if before.Quota != (channels.Quota{}) || before.Settings.MaxMessageBytes != channels.DefaultMaxMessageBytes {
		t.Errorf("config without a plan = %+v", before)
	}

	p := f.plan(t, controlplane.NewPlan{ID: "tiny", Name: "Tiny", Enforcement: channels.EnforceHard,
		Limits: billing.LimitsPatch{MaxConnections: i64(3), MaxMessagesPerDay: i64(100), MaxMessagesPerMonth: i64(1000),
			PublishRate: i64(7), MaxMessageBytes: i64(512), ClientEventRate: i64(20), MaxPresenceMembers: i64(4),
			HistoryRetentionS: i64(60), ResumeWindowS: i64(10), MaxWebhookEndpoints: i64(1)}})
	if _, err := f.store.SetAccountPlan(ctx, acc.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	c, err := f.store.AppConfig(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	wantQuota := channels.Quota{Plan: "tiny", Enforcement: channels.EnforceHard, MaxConnections: 3,
		MaxMessagesPerDay: 100, MaxMessagesPerMonth: 1000, PublishRate: 7, MaxWebhookEndpoints: 1}
	if c.Quota != wantQuota {
		t.Errorf("quota = %+v, want %+v", c.Quota, wantQuota)
	}
	s := c.Settings
	if s.MaxMessageBytes != 512 || s.ClientEventRate != 5 || s.MaxPresenceMembers != 4 ||
		s.HistoryRetentionS != 60 || s.ResumeWindowS != 10 || s.MaxConnections != 50 {
		t.Errorf("effective settings = %+v", s)
	}
	if len(c.Keys) != 1 || c.Keys[0].Key != "k1" {
		t.Errorf("keys = %+v", c.Keys)
	}
	stored, err := f.store.GetApp(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal([]int{stored.Settings.MaxMessageBytes, stored.Settings.HistoryRetentionS},
		[]int{app.Settings.MaxMessageBytes, app.Settings.HistoryRetentionS}) {
		t.Errorf("the app's own settings changed: %+v", stored.Settings)
	}

	// The history purge keeps what the plan allows.
	writeHistory(t, f, historyMsg("a1", "c", 1))
	rets, err := f.store.HistoryRetentions(ctx)
	if err != nil || len(rets) != 1 || rets[0].Retention != time.Minute {
		t.Errorf("history retentions = %+v, %v", rets, err)
	}
}

// TestSeedPlan: dev mode's plan is created once and then left as the
// operator sets it; SeedApp puts the demo account on it while the account
// has no plan, and never moves it off another.
func TestSeedPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	dev := controlplane.NewPlan{ID: "dev", Name: "dev", Enforcement: channels.EnforceSoft}
	for range 2 {
		if err := f.store.SeedPlan(ctx, dev); err != nil {
			t.Fatalf("seed plan: %v", err)
		}
	}
	if _, err := f.store.UpdatePlan(ctx, "dev", controlplane.PlanPatch{Limits: billing.LimitsPatch{PublishRate: i64(9)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SeedPlan(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.store.GetPlan(ctx, "dev"); p.Limits.PublishRate != 9 {
		t.Errorf("seeding again overwrote the operator's change: %+v", p)
	}

	in := demoSeed()
	in.PlanID = "dev"
	f.seed(t, in)
	before := f.seedSnapshot(t, in.AppID)
	acc := before.Accounts[0]
	if acc.PlanID == nil || *acc.PlanID != "dev" || before.Config.Quota.Plan != "dev" {
		t.Fatalf("seeded account %+v, config quota %+v", acc, before.Config.Quota)
	}
	f.seed(t, in)
	if after := f.seedSnapshot(t, in.AppID); !reflect.DeepEqual(after, before) {
		t.Errorf("seeding again changed\n%+v\nto\n%+v", before, after)
	}

	f.plan(t, controlplane.NewPlan{ID: "pro", Name: "Pro"})
	if _, err := f.store.SetAccountPlan(ctx, acc.ID, "pro"); err != nil {
		t.Fatal(err)
	}
	f.seed(t, in)
	if got, _ := f.store.GetAccount(ctx, acc.ID); got.PlanID == nil || *got.PlanID != "pro" {
		t.Errorf("seeding moved the demo account off its plan: %+v", got)
	}

	in.PlanID = "missing"
	in.AccountName = "Fresh"
	wantError(t, f.store.SeedApp(ctx, in), channels.CodeBadRequest, "plan_id")
}

// TestDeletePlanRacingSetPlan: deleting a plan while an account is being
// put on it ends one way or the other, never with an account on a plan
// that is gone nor a 409 that counts no account.
func TestDeletePlanRacingSetPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acc := f.account(t, "acme")
	for i := range 20 {
		p := f.plan(t, controlplane.NewPlan{Name: fmt.Sprintf("p%d", i)})
		var setErr, delErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, setErr = f.store.SetAccountPlan(ctx, acc.ID, p.ID) }()
		go func() { defer wg.Done(); delErr = f.store.DeletePlan(ctx, p.ID) }()
		wg.Wait()
		switch {
		case setErr == nil && delErr != nil:
			if de := wantError(t, delErr, channels.CodeConflict, ""); !strings.Contains(de.Message, "1 account") {
				t.Fatalf("409 message = %q", de.Message)
			}
		case setErr != nil && delErr == nil:
			wantError(t, setErr, channels.CodeBadRequest, "plan_id")
		default:
			t.Fatalf("set plan: %v; delete plan: %v", setErr, delErr)
		}
		if _, err := f.store.SetAccountPlan(ctx, acc.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
}
