package billing

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/channels"
)

// Upper bounds of a plan's limits (docs/billing.md, "Plans"). They are far
// above any real plan; they exist so that a typo (an extra digit group, a
// byte count given as a message count) is refused instead of stored, and
// so that every limit fits the app settings it may lower.
const (
	// MaxPlanConnections caps max_connections, as channels.Settings does.
	MaxPlanConnections = 1 << 30
	// MaxPlanMessages caps max_messages_per_day and _per_month: a
	// quadrillion messages, beyond any bill.
	MaxPlanMessages = 1_000_000_000_000_000
	// MaxPlanPublishRate caps publish_rate (messages per second per app).
	MaxPlanPublishRate = 1_000_000
	// MaxPlanClientEventRate caps client_event_rate, as channels.Settings
	// does.
	MaxPlanClientEventRate = 10_000
	// MaxPlanWebhookEndpoints caps max_webhook_endpoints.
	MaxPlanWebhookEndpoints = 1000
)

// Limits are what a plan allows. Zero means unlimited. MaxConnections,
// MaxMessagesPerDay and MaxMessagesPerMonth are per account, summed over
// its apps; PublishRate is per app; the others lower each app's settings
// of the same name where they are stricter (Apply).
type Limits struct {
	MaxConnections      int64 `json:"max_connections"`
	MaxMessagesPerDay   int64 `json:"max_messages_per_day"`
	MaxMessagesPerMonth int64 `json:"max_messages_per_month"`
	MaxMessageBytes     int64 `json:"max_message_bytes"`
	PublishRate         int64 `json:"publish_rate"`
	ClientEventRate     int64 `json:"client_event_rate"`
	MaxPresenceMembers  int64 `json:"max_presence_members"`
	HistoryRetentionS   int64 `json:"history_retention_s"`
	ResumeWindowS       int64 `json:"resume_window_s"`
	MaxWebhookEndpoints int64 `json:"max_webhook_endpoints"`
}

// limitRule is one limit's name, value and upper bound.
type limitRule struct {
	name  string
	value int64
	max   int64
}

func (l Limits) rules() []limitRule {
	return []limitRule{
		{"max_connections", l.MaxConnections, MaxPlanConnections},
		{"max_messages_per_day", l.MaxMessagesPerDay, MaxPlanMessages},
		{"max_messages_per_month", l.MaxMessagesPerMonth, MaxPlanMessages},
		{"max_message_bytes", l.MaxMessageBytes, channels.MaxMessageBytesLimit},
		{"publish_rate", l.PublishRate, MaxPlanPublishRate},
		{"client_event_rate", l.ClientEventRate, MaxPlanClientEventRate},
		{"max_presence_members", l.MaxPresenceMembers, channels.MaxPresenceMembersUB},
		{"history_retention_s", l.HistoryRetentionS, channels.MaxRetentionS},
		{"resume_window_s", l.ResumeWindowS, channels.MaxWindowS},
		{"max_webhook_endpoints", l.MaxWebhookEndpoints, MaxPlanWebhookEndpoints},
	}
}

// Validate names the first limit that is negative or above its bound, as
// a bad request on field limits.<name>.
func (l Limits) Validate() error {
	for _, r := range l.rules() {
		if r.value < 0 || r.value > r.max {
			return channels.BadRequest("limits."+r.name,
				fmt.Sprintf("limits.%s must be between 0 (unlimited) and %d", r.name, r.max))
		}
	}
	return nil
}

// Quota is the part of the limits the edge enforces per account (and
// publish_rate per app), for the plan planID.
func (l Limits) Quota(planID string, e channels.Enforcement) channels.Quota {
	return channels.Quota{
		Plan:                planID,
		Enforcement:         e,
		MaxConnections:      l.MaxConnections,
		MaxMessagesPerDay:   l.MaxMessagesPerDay,
		MaxMessagesPerMonth: l.MaxMessagesPerMonth,
		PublishRate:         l.PublishRate,
		MaxWebhookEndpoints: l.MaxWebhookEndpoints,
	}
}

// Apply lowers an app's settings to the plan's per-app limits where the
// plan is stricter. A zero limit leaves the setting as it is. A setting of
// 0 stays 0: where an app setting may be 0 (history_retention_s: no
// history; resume_window_s: no resume) it is already the strictest value.
// The plan's max_connections is account-wide, so it never touches the
// app's own max_connections (the edge checks both).
func (l Limits) Apply(s channels.Settings) channels.Settings {
	lower(&s.MaxMessageBytes, l.MaxMessageBytes)
	lower(&s.ClientEventRate, l.ClientEventRate)
	lower(&s.MaxPresenceMembers, l.MaxPresenceMembers)
	lower(&s.HistoryRetentionS, l.HistoryRetentionS)
	lower(&s.ResumeWindowS, l.ResumeWindowS)
	return s
}

// lower sets *setting to limit when limit is set and below it.
func lower(setting *int, limit int64) {
	if limit > 0 && limit < int64(*setting) {
		*setting = int(limit)
	}
}

// LimitsPatch is a partial update of Limits: nil fields are left as they
// are. Creating a plan applies one over the zero Limits (unlimited).
type LimitsPatch struct {
	MaxConnections      *int64 `json:"max_connections,omitempty"`
	MaxMessagesPerDay   *int64 `json:"max_messages_per_day,omitempty"`
	MaxMessagesPerMonth *int64 `json:"max_messages_per_month,omitempty"`
	MaxMessageBytes     *int64 `json:"max_message_bytes,omitempty"`
	PublishRate         *int64 `json:"publish_rate,omitempty"`
	ClientEventRate     *int64 `json:"client_event_rate,omitempty"`
	MaxPresenceMembers  *int64 `json:"max_presence_members,omitempty"`
	HistoryRetentionS   *int64 `json:"history_retention_s,omitempty"`
	ResumeWindowS       *int64 `json:"resume_window_s,omitempty"`
	MaxWebhookEndpoints *int64 `json:"max_webhook_endpoints,omitempty"`
}

// Apply returns l with the patch's non-nil fields set. It does not
// validate; call Validate on the result.
func (p LimitsPatch) Apply(l Limits) Limits {
	for _, f := range []struct {
		dst *int64
		v   *int64
	}{
		{&l.MaxConnections, p.MaxConnections},
		{&l.MaxMessagesPerDay, p.MaxMessagesPerDay},
		{&l.MaxMessagesPerMonth, p.MaxMessagesPerMonth},
		{&l.MaxMessageBytes, p.MaxMessageBytes},
		{&l.PublishRate, p.PublishRate},
		{&l.ClientEventRate, p.ClientEventRate},
		{&l.MaxPresenceMembers, p.MaxPresenceMembers},
		{&l.HistoryRetentionS, p.HistoryRetentionS},
		{&l.ResumeWindowS, p.ResumeWindowS},
		{&l.MaxWebhookEndpoints, p.MaxWebhookEndpoints},
	} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return l
}

// Plan caps what the accounts on it use (docs/billing.md, "Plans").
type Plan struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Enforcement channels.Enforcement `json:"enforcement"`
	Limits      Limits               `json:"limits"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
}

// Validate checks the name, the enforcement and the limits, naming the
// field at fault.
func (p Plan) Validate() error {
	if err := channels.ValidateName("name", p.Name); err != nil {
		return err
	}
	if err := ValidateEnforcement(p.Enforcement); err != nil {
		return err
	}
	return p.Limits.Validate()
}

// ValidateEnforcement accepts hard and soft.
func ValidateEnforcement(e channels.Enforcement) error {
	if e != channels.EnforceHard && e != channels.EnforceSoft {
		return channels.BadRequest("enforcement", `enforcement must be "hard" or "soft"`)
	}
	return nil
}

// ValidatePlanID checks an id given at creation: the app id alphabet, so
// that ids are safe in paths and logs.
func ValidatePlanID(id string) error {
	if channels.ValidateAppID(id) != nil {
		return channels.BadRequest("id", "plan id must match ^[A-Za-z0-9_-]{1,64}$")
	}
	return nil
}
