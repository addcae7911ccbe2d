package controlplane

import (
	"context"
	"strconv"
	"time"

	"github.com/heraldhq/herald/billing"
)

// UsageCounts are the counters of the usage API in the order the CSV
// header lists them (billing.Columns): messages, the counters, then
// over_quota.
type UsageCounts struct {
	// Messages is what a plan counts (billing.Counters.Messages).
	Messages int64 `json:"messages"`
	billing.Counters
	// OverQuota says the account was over a quota of its plan during the
	// period (in the totals: during any of them).
	OverQuota bool `json:"over_quota"`
}

// NewUsageCounts renders billing counters as the API shows them.
func NewUsageCounts(c billing.Counters) UsageCounts {
	return UsageCounts{Messages: c.Messages(), Counters: c}
}

// UsageItem is one period of a usage report.
type UsageItem struct {
	// Start is the period's start in UTC.
	Start time.Time `json:"start"`
	UsageCounts
}

// UsageReport answers GET /admin/v1/apps/{id}/usage and its siblings:
// the periods that counted something, oldest first, and the totals of
// every field over them.
type UsageReport struct {
	Granularity billing.Granularity `json:"granularity"`
	Items       []UsageItem         `json:"items"`
	Totals      UsageCounts         `json:"totals"`
	// Limits are the account's plan's limits (an app's report: each
	// per-app limit lowered to the app's own setting where stricter,
	// billing.Limits.ForApp); null when the account has no plan.
	Limits *billing.Limits `json:"limits"`
	// Remaining is what the account has left of its message quotas in
	// the current UTC day and month, whatever range the report covers.
	Remaining billing.Remaining `json:"remaining"`
}

// NewUsageReport builds a report from the periods a UsageStore listed;
// periods that counted nothing are left out.
func NewUsageReport(g billing.Granularity, periods []billing.Period) UsageReport {
	r := UsageReport{Granularity: g, Items: []UsageItem{}}
	var kept []billing.Period
	for _, p := range periods {
		if p.IsZero() {
			continue
		}
		kept = append(kept, p)
		r.Items = append(r.Items, UsageItem{Start: p.Start.UTC(), UsageCounts: NewUsageCounts(p.Counters)})
	}
	r.Totals = NewUsageCounts(billing.Total(kept))
	return r
}

// Span is a time range [From, To).
type Span struct{ From, To time.Time }

// MarkOverQuota sets OverQuota on the items (and the totals) whose period
// overlaps one of over, the spans the account was over a quota.
func (r *UsageReport) MarkOverQuota(over []Span) {
	for i := range r.Items {
		start := r.Items[i].Start
		end := r.Granularity.Next(start)
		for _, s := range over {
			if s.From.Before(end) && s.To.After(start) {
				r.Items[i].OverQuota = true
				r.Totals.OverQuota = true
				break
			}
		}
	}
}

// UsageRange asks for the periods of one granularity whose starts are in
// [First, End).
type UsageRange struct {
	Granularity billing.Granularity
	First, End  time.Time
}

// HistoryCountQuery asks how many of an app's messages of one stream, up
// to a serial, the history holds in each period of a range.
type HistoryCountQuery struct {
	AppID     string
	Stream    string
	MaxSerial uint64
	UsageRange
}

// UsageStore reads what the usage aggregator wrote (docs/billing.md).
type UsageStore interface {
	// AppUsage lists the app's periods in r, oldest first; periods
	// without a row are absent.
	AppUsage(ctx context.Context, appID string, r UsageRange) ([]billing.Period, error)
	// AccountUsage lists the account's periods in r, oldest first: the
	// sums over its apps, deleted ones included. PeakConnections is the
	// sum of the apps' peaks, an upper bound of the account's peak.
	AccountUsage(ctx context.Context, accountID string, r UsageRange) ([]billing.Period, error)
	// UsageAccount is the account of the app's newest usage row (""
	// when it was folded after the app was gone), for an app that may no
	// longer exist: its usage stays readable by its id. found is false
	// when the app has no usage.
	UsageAccount(ctx context.Context, appID string) (accountID string, found bool, err error)
	// StreamMark is the last serial of the stream that the
	// aggregator has counted, 0 before the first.
	StreamMark(ctx context.Context, stream string) (uint64, error)
	// CountHistory counts stored history messages per period start; the
	// periods without any are absent.
	CountHistory(ctx context.Context, q HistoryCountQuery) (map[time.Time]int64, error)
	// OverQuota lists the spans within [from, to) during which the
	// account was over a quota of its plan (docs/billing.md).
	OverQuota(ctx context.Context, accountID string, from, to time.Time) ([]Span, error)
}

// ReconcileItem compares one period's metered messages_published with
// the messages the stream and the history hold for it.
type ReconcileItem struct {
	Start   time.Time `json:"start"`
	Metered int64     `json:"metered"`
	// Stream is null when the stream no longer holds the whole period.
	Stream *int64 `json:"stream"`
	// History is null when the app's retention does not keep the whole
	// period (or keeps no history at all).
	History *int64 `json:"history"`
	// Differs is set when Stream or History is not null and not Metered.
	Differs bool `json:"differs"`
}

// ReconcileReport answers GET /admin/v1/apps/{id}/usage/reconcile: the
// periods where anything was counted, oldest first.
type ReconcileReport struct {
	Granularity billing.Granularity `json:"granularity"`
	// Stream names the message stream of the app's shard.
	Stream string `json:"stream"`
	// UpTo is the last serial of Stream that the meter had counted; the
	// stream and the history are counted up to it, so that messages
	// the meter has yet to fold are no difference.
	UpTo        uint64          `json:"up_to"`
	Items       []ReconcileItem `json:"items"`
	Differences int             `json:"differences"`
}

// UsageCSVHeader is the header row of a usage report as CSV: start, the
// counters of billing.Columns, over_quota.
func UsageCSVHeader() []string {
	h := append([]string{"start"}, billing.Columns...)
	return append(h, "over_quota")
}

// CSVRecords renders the report's items as CSV records under
// UsageCSVHeader, one per period; the totals are not among them.
func (r UsageReport) CSVRecords() [][]string {
	recs := [][]string{UsageCSVHeader()}
	for _, it := range r.Items {
		rec := []string{it.Start.UTC().Format(time.RFC3339)}
		for _, v := range it.Counters.Values() {
			rec = append(rec, strconv.FormatInt(v, 10))
		}
		recs = append(recs, append(rec, strconv.FormatBool(it.OverQuota)))
	}
	return recs
}
