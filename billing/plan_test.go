package billing_test

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
)

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits billing.Limits
		field  string
	}{
		{"zero is unlimited", billing.Limits{}, ""},
		{"every limit at its bound", billing.Limits{
			MaxConnections: billing.MaxPlanConnections, MaxMessagesPerDay: billing.MaxPlanMessages,
			MaxMessagesPerMonth: billing.MaxPlanMessages, MaxMessageBytes: channels.MaxMessageBytesLimit,
			PublishRate: billing.MaxPlanPublishRate, ClientEventRate: billing.MaxPlanClientEventRate,
			MaxPresenceMembers: channels.MaxPresenceMembersUB, HistoryRetentionS: channels.MaxRetentionS,
			ResumeWindowS: channels.MaxWindowS, MaxWebhookEndpoints: billing.MaxPlanWebhookEndpoints,
		}, ""},
		{"negative connections", billing.Limits{MaxConnections: -1}, "limits.max_connections"},
		{"absurd daily messages", billing.Limits{MaxMessagesPerDay: billing.MaxPlanMessages + 1}, "limits.max_messages_per_day"},
		{"negative monthly messages", billing.Limits{MaxMessagesPerMonth: -5}, "limits.max_messages_per_month"},
		{"message bytes over the platform cap", billing.Limits{MaxMessageBytes: channels.MaxMessageBytesLimit + 1}, "limits.max_message_bytes"},
		{"absurd publish rate", billing.Limits{PublishRate: billing.MaxPlanPublishRate + 1}, "limits.publish_rate"},
		{"absurd client event rate", billing.Limits{ClientEventRate: 1 << 40}, "limits.client_event_rate"},
		{"negative presence", billing.Limits{MaxPresenceMembers: -1}, "limits.max_presence_members"},
		{"retention over a year", billing.Limits{HistoryRetentionS: channels.MaxRetentionS + 1}, "limits.history_retention_s"},
		{"negative resume window", billing.Limits{ResumeWindowS: -1}, "limits.resume_window_s"},
		{"absurd webhook endpoints", billing.Limits{MaxWebhookEndpoints: billing.MaxPlanWebhookEndpoints + 1}, "limits.max_webhook_endpoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkField(t, tt.limits.Validate(), tt.field)
		})
	}
}

func TestPlanValidate(t *testing.T) {
	t.Parallel()
	ok := billing.Plan{Name: "Pro", Enforcement: channels.EnforceSoft}
	tests := []struct {
		name  string
		edit  func(*billing.Plan)
		field string
	}{
		{"valid", func(*billing.Plan) {}, ""},
		{"hard", func(p *billing.Plan) { p.Enforcement = channels.EnforceHard }, ""},
		{"no name", func(p *billing.Plan) { p.Name = "" }, "name"},
		{"no enforcement", func(p *billing.Plan) { p.Enforcement = "" }, "enforcement"},
		{"unknown enforcement", func(p *billing.Plan) { p.Enforcement = "strict" }, "enforcement"},
		{"bad limit", func(p *billing.Plan) { p.Limits.PublishRate = -1 }, "limits.publish_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := ok
			tt.edit(&p)
			checkField(t, p.Validate(), tt.field)
		})
	}
}

func TestValidatePlanID(t *testing.T) {
	t.Parallel()
	for id, field := range map[string]string{"dev": "", "pln_abc-1": "", "": "id", "a/b": "id", "é": "id"} {
		checkField(t, billing.ValidatePlanID(id), field)
	}
}

// checkField fails unless err is nil (field "") or a bad request naming
// field.
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var de *channels.Error
	if !errors.As(err, &de) || de.Code != channels.CodeBadRequest || de.Field != field {
		t.Errorf("error = %#v, want bad request on %s", err, field)
	}
}

func TestLimitsQuota(t *testing.T) {
	t.Parallel()
	l := billing.Limits{MaxConnections: 10, MaxMessagesPerDay: 100, MaxMessagesPerMonth: 1000,
		PublishRate: 5, MaxMessageBytes: 64, ClientEventRate: 3, MaxWebhookEndpoints: 2}
	got := l.Quota("pro", channels.EnforceHard)
	want := channels.Quota{Plan: "pro", Enforcement: channels.EnforceHard, MaxConnections: 10,
		MaxMessagesPerDay: 100, MaxMessagesPerMonth: 1000, PublishRate: 5, MaxWebhookEndpoints: 2}
	if got != want {
		t.Errorf("quota = %+v, want %+v", got, want)
	}
	if !got.Limited() || !got.Hard() {
		t.Errorf("quota %+v should be limited and hard", got)
	}
	if q := (billing.Limits{MaxMessageBytes: 64}).Quota("p", channels.EnforceSoft); q.Limited() {
		t.Errorf("per-app limits alone make a limited quota: %+v", q)
	}
}

func TestLimitsApply(t *testing.T) {
	t.Parallel()
	app := channels.DefaultSettings()
	app.MaxConnections = 50
	tests := []struct {
		name   string
		limits billing.Limits
		app    func(*channels.Settings)
		want   func(*channels.Settings)
	}{
		{"unlimited plan changes nothing", billing.Limits{}, nil, nil},
		{"stricter plan lowers every per-app setting",
			billing.Limits{MaxMessageBytes: 100, ClientEventRate: 2, MaxPresenceMembers: 7,
				HistoryRetentionS: 60, ResumeWindowS: 30},
			nil,
			func(s *channels.Settings) {
				s.MaxMessageBytes, s.ClientEventRate, s.MaxPresenceMembers = 100, 2, 7
				s.HistoryRetentionS, s.ResumeWindowS = 60, 30
			}},
		{"laxer plan keeps the app's stricter settings",
			billing.Limits{MaxMessageBytes: 1 << 20, ClientEventRate: 1000, MaxPresenceMembers: 5000,
				HistoryRetentionS: 1 << 24, ResumeWindowS: 1 << 18},
			nil, nil},
		{"an app without history or resume keeps none",
			billing.Limits{HistoryRetentionS: 60, ResumeWindowS: 30},
			func(s *channels.Settings) { s.HistoryRetentionS, s.ResumeWindowS = 0, 0 },
			func(s *channels.Settings) { s.HistoryRetentionS, s.ResumeWindowS = 0, 0 }},
		{"account-wide connections leave the app's own alone",
			billing.Limits{MaxConnections: 3, MaxMessagesPerDay: 1, PublishRate: 1},
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := app
			if tt.app != nil {
				tt.app(&in)
			}
			want := in
			if tt.want != nil {
				tt.want(&want)
			}
			got := tt.limits.Apply(in)
			if got.MaxMessageBytes != want.MaxMessageBytes || got.ClientEventRate != want.ClientEventRate ||
				got.MaxPresenceMembers != want.MaxPresenceMembers || got.HistoryRetentionS != want.HistoryRetentionS ||
				got.ResumeWindowS != want.ResumeWindowS || got.MaxConnections != want.MaxConnections {
				t.Errorf("Apply = %+v, want %+v", got, want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("applied settings do not validate: %v", err)
			}
		})
	}
}

func TestLimitsPatchApply(t *testing.T) {
	t.Parallel()
	five, zero := int64(5), int64(0)
	base := billing.Limits{MaxConnections: 1, PublishRate: 2, MaxWebhookEndpoints: 3}
	got := billing.LimitsPatch{PublishRate: &five, MaxWebhookEndpoints: &zero, ResumeWindowS: &five}.Apply(base)
	want := billing.Limits{MaxConnections: 1, PublishRate: 5, ResumeWindowS: 5}
	if got != want {
		t.Errorf("patched = %+v, want %+v", got, want)
	}
	if (billing.LimitsPatch{}).Apply(base) != base {
		t.Error("an empty patch changed the limits")
	}
}

func TestLimitsRemaining(t *testing.T) {
	t.Parallel()
	r := billing.Limits{MaxMessagesPerDay: 100, MaxMessagesPerMonth: 1000}.Remaining(30, 1200)
	if r.MessagesToday == nil || *r.MessagesToday != 70 || r.MessagesThisMonth == nil || *r.MessagesThisMonth != 0 {
		t.Errorf("remaining = %+v, want 70 today and 0 (floored) this month", r)
	}
	if r := (billing.Limits{}).Remaining(5, 5); r.MessagesToday != nil || r.MessagesThisMonth != nil {
		t.Errorf("unlimited remaining = %+v, want nulls", r)
	}
}

func TestLimitsForApp(t *testing.T) {
	t.Parallel()
	s := channels.DefaultSettings()
	s.MaxMessageBytes, s.HistoryRetentionS, s.ResumeWindowS = 500, 0, 60
	got := billing.Limits{MaxMessageBytes: 1000, ClientEventRate: 2, HistoryRetentionS: 30, ResumeWindowS: 0,
		MaxMessagesPerDay: 9}.ForApp(s)
	want := billing.Limits{MaxMessageBytes: 500, ClientEventRate: 2, MaxPresenceMembers: channels.DefaultMaxPresenceMembers,
		HistoryRetentionS: 30, ResumeWindowS: 60, MaxMessagesPerDay: 9}
	if got != want {
		t.Errorf("ForApp = %+v, want %+v", got, want)
	}
}
