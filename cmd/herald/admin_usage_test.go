package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// usageCLI is the CLI against an admin API with a message stream, and
// the database under it for the tests to write usage into.
type usageCLI struct {
	*cli
	pub *stream.Publisher
	// exec runs SQL on the API's database.
	exec func(t *testing.T, sql string, args ...any)
	// stored is when the stream stored a serial.
	stored func(t *testing.T, serial uint64) time.Time
	// acct holds the app web-1.
	acct controlplane.Account
}

func newUsageCLI(t *testing.T) *usageCLI {
	t.Helper()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	if err := stream.Ensure(context.Background(), js, stream.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js})
	if err != nil {
		t.Fatal(err)
	}
	store, pool := testenv.OpenStore(t, testenv.MigratedPostgres(t))
	testinfra.Sensitive(adminTestToken)
	a, err := api.New(api.Config{Store: store, AdminToken: adminTestToken, Logger: testinfra.Logger(t), Streams: stream.NewCounter(js)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	u := &usageCLI{cli: &cli{env: map[string]string{"HERALD_URL": srv.URL, "HERALD_ADMIN_TOKEN": adminTestToken}}, pub: pub}
	u.exec = func(t *testing.T, sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	u.stored = func(t *testing.T, serial uint64) time.Time {
		t.Helper()
		s, err := js.Stream(context.Background(), stream.StreamName(0))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.GetMsg(context.Background(), serial)
		if err != nil {
			t.Fatal(err)
		}
		return m.Time
	}
	u.okJSON(t, &u.acct, "accounts", "create", "--name", "Acme")
	u.ok(t, "apps", "create", "--account", u.acct.ID, "--name", "web", "--id", "web-1")
	return u
}

func TestAdminUsage(t *testing.T) {
	t.Parallel()
	u := newUsageCLI(t)
	acct := u.acct
	u.ok(t, "apps", "create", "--account", acct.ID, "--name", "api", "--id", "api-1")
	for _, r := range []struct {
		app   string
		start string
		pub   int
		peak  int
	}{{"web-1", "2026-01-01T00:00:00Z", 3, 4}, {"web-1", "2026-01-02T00:00:00Z", 5, 1}, {"api-1", "2026-01-01T00:00:00Z", 10, 2}} {
		u.exec(t, `insert into usage (account_id, app_id, granularity, period_start, messages_published, peak_connections)
			values ($1, $2, 'day', $3, $4, $5)`, acct.ID, r.app, r.start, r.pub, r.peak)
	}
	week := []string{"--granularity", "day", "--from", "2025-12-30T00:00:00Z", "--to", "2026-01-05T00:00:00Z"}

	r := u.ok(t, append([]string{"usage", "--app", "web-1"}, week...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "START") || !strings.Contains(lines[0], "PEAK_CONNECTIONS") ||
		!strings.HasPrefix(lines[1], "2026-01-01T00:00:00Z  3 ") || !strings.HasPrefix(lines[3], "TOTAL") ||
		len(strings.Fields(lines[3])) != len(billing.Columns)+2 || strings.Fields(lines[3])[1] != "8" || strings.Fields(lines[3])[10] != "4" {
		t.Errorf("usage table:\n%s", r.stdout)
	}
	var rep controlplane.UsageReport
	u.okJSON(t, &rep, append([]string{"usage", "--account", acct.ID}, week...)...)
	if len(rep.Items) != 2 || rep.Items[0].MessagesPublished != 13 || rep.Totals.MessagesPublished != 18 || rep.Totals.PeakConnections != 6 {
		t.Errorf("account usage = %+v", rep)
	}
	r = u.ok(t, append([]string{"usage", "--app", "api-1", "--csv"}, week...)...)
	if want := "start,messages,messages_published,messages_delivered,presence_events,webhook_calls,api_requests,bytes_in,bytes_out,connection_seconds,peak_connections,history_reads,over_quota\n" +
		"2026-01-01T00:00:00Z,10,10,0,0,0,0,0,0,0,2,0,false\n"; r.stdout != want {
		t.Errorf("usage --csv:\n%s\nwant\n%s", r.stdout, want)
	}

	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		field string
	}{
		{"neither app nor account", []string{"usage"}, 2, ""},
		{"both", []string{"usage", "--app", "web-1", "--account", acct.ID}, 2, ""},
		{"unknown granularity", []string{"usage", "--app", "web-1", "--granularity", "week"}, 1, "granularity"},
		{"inverted", []string{"usage", "--app", "web-1", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}, 1, "to"},
		{"unknown app", []string{"usage", "--app", "nope"}, 1, ""},
		{"reconcile without app", []string{"usage", "reconcile"}, 2, ""},
	} {
		r := u.run(tc.args...)
		if r.code != tc.code || (tc.field != "" && !strings.Contains(r.stderr, "(field "+tc.field+")")) {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, r.code, tc.code, r.stderr)
		}
	}
}

func TestAdminUsageReconcile(t *testing.T) {
	t.Parallel()
	u := newUsageCLI(t)
	acct := u.acct
	res, err := u.pub.PublishBatch(context.Background(), []stream.Message{
		{AppID: "web-1", Channel: "c", Event: "e", Data: []byte("1"), Source: stream.SourceAPI},
	})
	if err != nil || res[0].Err != nil {
		t.Fatalf("publish: %v %+v", err, res)
	}
	stored := u.stored(t, res[0].Serial)
	hour := billing.Hour.Start(stored)
	u.exec(t, `insert into usage_stream_marks (stream, last_serial) values ('HERALD_MSG', $1)`, int64(res[0].Serial))
	u.exec(t, `insert into usage (account_id, app_id, granularity, period_start, messages_published)
		values ($1, 'web-1', 'minute', $2, 1)`, acct.ID, billing.Minute.Start(stored))
	u.exec(t, `insert into messages (stream, serial, app_id, channel, event, data, published_at)
		values ('HERALD_MSG', $1, 'web-1', 'c', 'e', '1', $2)`, int64(res[0].Serial), stored)
	window := []string{"--granularity", "minute", "--from", hour.Add(-time.Hour).Format(time.RFC3339), "--to", hour.Add(2 * time.Hour).Format(time.RFC3339)}

	r := u.run(append([]string{"usage", "reconcile", "--app", "web-1"}, window...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "METERED") || !strings.Contains(r.stdout, "  1  ") {
		t.Fatalf("reconcile of a match: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	u.exec(t, `update usage set messages_published = 2`)
	r = u.run(append([]string{"usage", "reconcile", "--app", "web-1"}, window...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "yes") || !strings.Contains(r.stderr, "differs in 1 period") {
		t.Errorf("reconcile of a difference: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
