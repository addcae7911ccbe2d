package channels

// Enforcement says what happens when an account goes over a quota of its
// plan (docs/billing.md, "Quotas and enforcement").
type Enforcement string

const (
	// EnforceHard refuses what is over the quota: publishes, client
	// events and connections. Deliveries of accepted messages go on.
	EnforceHard Enforcement = "hard"
	// EnforceSoft refuses nothing; the overage is recorded and reported.
	EnforceSoft Enforcement = "soft"
)

// Quota is what the edge enforces for an app on behalf of its account's
// plan, beside the app's own Settings (where a plan limit is stricter
// than a setting, the control plane has already lowered the setting).
// The control plane writes it in each app's AppConfig; a zero limit means
// unlimited, and a zero Quota (no plan) limits nothing.
type Quota struct {
	// Plan is the plan's id, for logs and errors; empty without a plan.
	Plan        string      `json:"plan,omitempty"`
	Enforcement Enforcement `json:"enforcement,omitempty"`
	// Account-wide, summed over the account's apps.
	MaxConnections      int64 `json:"max_connections,omitempty"`
	MaxMessagesPerDay   int64 `json:"max_messages_per_day,omitempty"`
	MaxMessagesPerMonth int64 `json:"max_messages_per_month,omitempty"`
	// PublishRate is published messages per second per app.
	PublishRate int64 `json:"publish_rate,omitempty"`
	// MaxWebhookEndpoints caps an app's webhook endpoints (checked by the
	// admin API when one is created, not at the edge).
	MaxWebhookEndpoints int64 `json:"max_webhook_endpoints,omitempty"`
}

// Limited reports whether the quota limits anything.
func (q Quota) Limited() bool {
	return q.MaxConnections > 0 || q.MaxMessagesPerDay > 0 || q.MaxMessagesPerMonth > 0 || q.PublishRate > 0
}

// Hard reports whether going over the quota is refused.
func (q Quota) Hard() bool { return q.Enforcement == EnforceHard }
