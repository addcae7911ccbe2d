package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testenv"
)

// usageRow is one row of the usage table as the aggregator writes it.
type usageRow struct {
	account, app string
	g            billing.Granularity
	start        string
	c            billing.Counters
}

// insertUsage writes rows straight into the usage table: the aggregator
// is not what these tests test.
func insertUsage(tb testing.TB, pool *pgxpool.Pool, rows ...usageRow) {
	tb.Helper()
	for _, r := range rows {
		start, err := time.Parse(time.RFC3339, r.start)
		if err != nil {
			tb.Fatal(err)
		}
		c := r.c
		_, err = pool.Exec(context.Background(), `insert into usage (account_id, app_id, granularity, period_start,
			messages_published, messages_delivered, presence_events, webhook_calls, api_requests,
			bytes_in, bytes_out, connection_seconds, peak_connections, history_reads)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			r.account, r.app, string(r.g), start, c.MessagesPublished, c.MessagesDelivered, c.PresenceEvents,
			c.WebhookCalls, c.APIRequests, c.BytesIn, c.BytesOut, c.ConnectionSeconds, c.PeakConnections, c.HistoryReads)
		if err != nil {
			tb.Fatalf("insert usage %+v: %v", r, err)
		}
	}
}

// usageFixture is an API over a database holding two accounts' usage.
type usageFixture struct {
	s              *server
	acct, other    controlplane.Account
	app1, app2, b1 controlplane.App
}

// The fixture's usage: app1 and app2 in one account, b1 in another.
var (
	fullCounters = billing.Counters{MessagesPublished: 2, MessagesDelivered: 10, PresenceEvents: 1, WebhookCalls: 3,
		APIRequests: 4, BytesIn: 100, BytesOut: 1000, ConnectionSeconds: 60, PeakConnections: 5, HistoryReads: 6}
)

func newUsageFixture(t *testing.T) *usageFixture {
	t.Helper()
	url := testenv.MigratedPostgres(t)
	f := &usageFixture{s: newServerAt(t, url, func(c *api.Config) {
		c.Now = func() time.Time { return time.Date(2026, 1, 2, 0, 30, 0, 0, time.UTC) }
	})}
	f.acct, f.other = f.s.account(t, "a"), f.s.account(t, "b")
	f.app1 = f.s.app(t, f.acct.ID, "one", nil)
	f.app2 = f.s.app(t, f.acct.ID, "two", nil)
	f.b1 = f.s.app(t, f.other.ID, "b", nil)
	_, pool := testenv.OpenStore(t, url)
	a, o := f.acct.ID, f.other.ID
	insertUsage(t, pool,
		usageRow{a, f.app1.ID, billing.Hour, "2026-01-01T09:00:00Z", billing.Counters{MessagesPublished: 50, PeakConnections: 1}},
		usageRow{a, f.app1.ID, billing.Hour, "2026-01-01T10:00:00Z", fullCounters},
		usageRow{a, f.app1.ID, billing.Hour, "2026-01-01T11:00:00Z", billing.Counters{MessagesDelivered: 7, PeakConnections: 2}},
		usageRow{a, f.app2.ID, billing.Hour, "2026-01-01T10:00:00Z", billing.Counters{MessagesPublished: 4, PeakConnections: 7}},
		usageRow{a, f.app1.ID, billing.Hour, "2026-01-01T12:00:00Z", billing.Counters{}},
		usageRow{o, f.b1.ID, billing.Hour, "2026-01-01T10:00:00Z", billing.Counters{MessagesPublished: 1000, PeakConnections: 99}},
		usageRow{a, f.app1.ID, billing.Minute, "2026-01-01T10:05:00Z", billing.Counters{MessagesPublished: 2, PeakConnections: 3}},
		usageRow{a, f.app1.ID, billing.Day, "2026-01-01T00:00:00Z", billing.Counters{MessagesPublished: 52, MessagesDelivered: 17, PeakConnections: 5}},
		usageRow{a, f.app1.ID, billing.Day, "2026-01-02T00:00:00Z", billing.Counters{APIRequests: 1}},
		usageRow{a, f.app1.ID, billing.Month, "2026-01-01T00:00:00Z", billing.Counters{MessagesPublished: 52, APIRequests: 1}},
	)
	return f
}

// counts is the API's rendering of c, messages summed by hand.
func counts(c billing.Counters) controlplane.UsageCounts {
	return controlplane.UsageCounts{
		Messages: c.MessagesPublished + c.MessagesDelivered + c.PresenceEvents + c.WebhookCalls, Counters: c,
	}
}

func item(start string, c billing.Counters) controlplane.UsageItem {
	t, _ := time.Parse(time.RFC3339, start)
	return controlplane.UsageItem{Start: t, UsageCounts: counts(c)}
}

// decodeUsage decodes a usage answer strictly.
func decodeUsage(t *testing.T, r response) controlplane.UsageReport {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	var rep controlplane.UsageReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return rep
}

func TestUsageReports(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	full := fullCounters
	morningItems := []controlplane.UsageItem{
		item("2026-01-01T09:00:00Z", billing.Counters{MessagesPublished: 50, PeakConnections: 1}),
		item("2026-01-01T10:00:00Z", full),
		item("2026-01-01T11:00:00Z", billing.Counters{MessagesDelivered: 7, PeakConnections: 2}),
	}
	morningTotals := billing.Counters{MessagesPublished: 52, MessagesDelivered: 17, PresenceEvents: 1, WebhookCalls: 3, APIRequests: 4,
		BytesIn: 100, BytesOut: 1000, ConnectionSeconds: 60, PeakConnections: 5, HistoryReads: 6}
	h10 := full
	h10.MessagesPublished += 4
	h10.PeakConnections = 5 + 7 // the account's peak is the sum of its apps'
	tests := []struct {
		name   string
		path   string
		query  string
		g      billing.Granularity
		items  []controlplane.UsageItem
		totals billing.Counters
	}{
		{"app hours, from inside a period", "/admin/v1/apps/" + f.app1.ID + "/usage",
			"from=2026-01-01T09:30:00Z&to=2026-01-01T12:00:00Z", billing.Hour,
			morningItems, morningTotals},
		{"to is exclusive", "/admin/v1/apps/" + f.app1.ID + "/usage",
			"granularity=hour&from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z", billing.Hour,
			[]controlplane.UsageItem{item("2026-01-01T10:00:00Z", full)}, full},
		{"account hours sum the apps", "/admin/v1/accounts/" + f.acct.ID + "/usage",
			"from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z", billing.Hour,
			[]controlplane.UsageItem{item("2026-01-01T10:00:00Z", h10)}, h10},
		{"minutes", "/admin/v1/apps/" + f.app1.ID + "/usage",
			"granularity=minute&from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z", billing.Minute,
			[]controlplane.UsageItem{item("2026-01-01T10:05:00Z", billing.Counters{MessagesPublished: 2, PeakConnections: 3})},
			billing.Counters{MessagesPublished: 2, PeakConnections: 3}},
		{"days, the current one too (default to)", "/admin/v1/apps/" + f.app1.ID + "/usage",
			"granularity=day&from=2025-12-30T00:00:00Z", billing.Day,
			[]controlplane.UsageItem{
				item("2026-01-01T00:00:00Z", billing.Counters{MessagesPublished: 52, MessagesDelivered: 17, PeakConnections: 5}),
				item("2026-01-02T00:00:00Z", billing.Counters{APIRequests: 1}),
			},
			billing.Counters{MessagesPublished: 52, MessagesDelivered: 17, PeakConnections: 5, APIRequests: 1}},
		{"months", "/admin/v1/accounts/" + f.acct.ID + "/usage",
			"granularity=month&from=2025-06-01T00:00:00Z&to=2026-02-01T00:00:00Z", billing.Month,
			[]controlplane.UsageItem{item("2026-01-01T00:00:00Z", billing.Counters{MessagesPublished: 52, APIRequests: 1})},
			billing.Counters{MessagesPublished: 52, APIRequests: 1}},
		{"default range is the last 24 hours", "/admin/v1/apps/" + f.app1.ID + "/usage", "", billing.Hour,
			morningItems, morningTotals},
		{"empty range", "/admin/v1/accounts/" + f.acct.ID + "/usage",
			"from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z", billing.Hour, []controlplane.UsageItem{}, billing.Counters{}},
		{"from equals to", "/admin/v1/apps/" + f.app1.ID + "/usage",
			"from=2026-01-01T10:00:00Z&to=2026-01-01T10:00:00Z", billing.Hour, []controlplane.UsageItem{}, billing.Counters{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := decodeUsage(t, f.s.do(t, http.MethodGet, tc.path+"?"+tc.query, nil))
			if rep.Granularity != tc.g {
				t.Errorf("granularity = %q, want %q", rep.Granularity, tc.g)
			}
			if len(rep.Items) != len(tc.items) {
				t.Fatalf("items = %+v, want %+v", rep.Items, tc.items)
			}
			for i := range tc.items {
				if !rep.Items[i].Start.Equal(tc.items[i].Start) || rep.Items[i].UsageCounts != tc.items[i].UsageCounts {
					t.Errorf("item %d = %+v, want %+v", i, rep.Items[i], tc.items[i])
				}
			}
			if rep.Totals != counts(tc.totals) {
				t.Errorf("totals = %+v, want %+v", rep.Totals, counts(tc.totals))
			}
		})
	}
}

// TestUsageJSONShape checks the field order of the issue of record, RFC 3339
// UTC starts, and that an empty report has items [] and every total.
func TestUsageJSONShape(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	r := f.s.do(t, http.MethodGet, "/admin/v1/apps/"+f.app1.ID+"/usage?from=2026-01-01T10:00:00%2B01:00&to=2026-01-01T10:00:00Z", nil)
	want := `{"granularity":"hour","items":[{"start":"2026-01-01T09:00:00Z","messages":50,"messages_published":50,` +
		`"messages_delivered":0,"presence_events":0,"webhook_calls":0,"api_requests":0,"bytes_in":0,"bytes_out":0,` +
		`"connection_seconds":0,"peak_connections":1,"history_reads":0,"over_quota":false}],"totals":{"messages":50,`
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), want) {
		t.Errorf("answer %d %s\nwant prefix %s", r.status, r.body, want)
	}
	r = f.s.do(t, http.MethodGet, "/admin/v1/apps/"+f.app2.ID+"/usage?from=2020-01-01T00:00:00Z&to=2020-01-01T05:00:00Z", nil)
	want = `{"granularity":"hour","items":[],"totals":{"messages":0,"messages_published":0,"messages_delivered":0,` +
		`"presence_events":0,"webhook_calls":0,"api_requests":0,"bytes_in":0,"bytes_out":0,"connection_seconds":0,` +
		`"peak_connections":0,"history_reads":0,"over_quota":false},` +
		`"limits":null,"remaining":{"messages_today":null,"messages_this_month":null}}`
	if got := strings.TrimSpace(string(r.body)); r.status != http.StatusOK || got != want {
		t.Errorf("empty answer %d %s\nwant %s", r.status, got, want)
	}
}
