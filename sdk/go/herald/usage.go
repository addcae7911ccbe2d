package herald

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Granularities of a usage report.
const (
	Minute = "minute"
	Hour   = "hour"
	Day    = "day"
	Month  = "month"
)

// UsageCounts are the counters of a period (docs/billing.md, "Counting
// rules").
type UsageCounts struct {
	// Messages is what a plan counts: published + delivered + presence
	// events + webhook calls.
	Messages          int64 `json:"messages"`
	MessagesPublished int64 `json:"messages_published"`
	MessagesDelivered int64 `json:"messages_delivered"`
	PresenceEvents    int64 `json:"presence_events"`
	WebhookCalls      int64 `json:"webhook_calls"`
	APIRequests       int64 `json:"api_requests"`
	BytesIn           int64 `json:"bytes_in"`
	BytesOut          int64 `json:"bytes_out"`
	ConnectionSeconds int64 `json:"connection_seconds"`
	PeakConnections   int64 `json:"peak_connections"`
	HistoryReads      int64 `json:"history_reads"`
	// OverQuota says the account was over a quota of its plan.
	OverQuota bool `json:"over_quota"`
}

// UsagePeriod is one period of a usage report.
type UsagePeriod struct {
	// Start is the period's start, UTC.
	Start time.Time `json:"start"`
	UsageCounts
}

// Usage is the app's usage report.
type Usage struct {
	Granularity string `json:"granularity"`
	// Items are the periods that counted something, oldest first.
	Items []UsagePeriod `json:"items"`
	// Totals sum the items (PeakConnections: the greatest).
	Totals UsageCounts `json:"totals"`
	// Limits are the limits that apply to the app, by name
	// ("max_messages_per_day", "publish_rate", …): its account's plan's,
	// each per-app one lowered to the app's own setting; 0 is unlimited.
	Limits map[string]int64 `json:"limits"`
	// Remaining is what the account has left of its message quotas now.
	Remaining struct {
		// MessagesToday and MessagesThisMonth are nil when unlimited.
		MessagesToday     *int64 `json:"messages_today"`
		MessagesThisMonth *int64 `json:"messages_this_month"`
	} `json:"remaining"`
}

// Usage reads the app's usage in [from, to) per granularity (Minute,
// Hour, Day, Month). Zero from and to: the last 24 hours; "": Hour.
func (c *Client) Usage(ctx context.Context, from, to time.Time, granularity string) (*Usage, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	if granularity != "" {
		q.Set("granularity", granularity)
	}
	var u Usage
	if err := c.do(ctx, request{method: http.MethodGet, segments: []string{"usage"}, query: q, idempotent: true}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}
