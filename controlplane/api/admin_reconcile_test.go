package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// reconcileEnv is an API with a real message stream and no meter: the
// tests write the usage rows and the meter's stream mark themselves.
type reconcileEnv struct {
	s    *server
	pool *pgxpool.Pool
	js   jetstream.JetStream
	pub  *stream.Publisher
	acct controlplane.Account
}

func newReconcileEnv(t *testing.T) *reconcileEnv {
	t.Helper()
	ns := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, ns))
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	if err := stream.Ensure(ctx, js, stream.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js, Timeout: historyTimeout})
	if err != nil {
		t.Fatal(err)
	}
	dbURL := testenv.MigratedPostgres(t)
	s := newServerAt(t, dbURL, func(c *api.Config) { c.Streams = stream.NewCounter(js) })
	_, pool := testenv.OpenStore(t, dbURL)
	return &reconcileEnv{s: s, pool: pool, js: js, pub: pub, acct: s.account(t, "acct")}
}

// publish stores n messages of app and returns their serials and the
// stream's timestamps.
func (e *reconcileEnv) publish(t *testing.T, app string, n int) ([]uint64, []time.Time) {
	t.Helper()
	ctx := context.Background()
	msgs := make([]stream.Message, n)
	for i := range msgs {
		msgs[i] = stream.Message{AppID: app, Channel: "c", Event: "e", Data: []byte("{}"), Source: stream.SourceAPI}
	}
	res, err := e.pub.PublishBatch(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.js.Stream(ctx, stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	var serials []uint64
	var times []time.Time
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		m, err := s.GetMsg(ctx, r.Serial)
		if err != nil {
			t.Fatal(err)
		}
		serials, times = append(serials, r.Serial), append(times, m.Time)
	}
	return serials, times
}

func (e *reconcileEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (e *reconcileEnv) reconcile(t *testing.T, app string, q url.Values) controlplane.ReconcileReport {
	t.Helper()
	var rep controlplane.ReconcileReport
	e.s.do(t, http.MethodGet, "/admin/v1/apps/"+app+"/usage/reconcile?"+q.Encode(), nil).want(t, http.StatusOK, &rep)
	return rep
}

func TestReconcileUsage(t *testing.T) {
	t.Parallel()
	e := newReconcileEnv(t)
	app := e.s.app(t, e.acct.ID, "one", nil).ID
	noHistory := e.s.app(t, e.acct.ID, "two", map[string]any{"settings": map[string]any{"history_retention_s": 0}}).ID

	serials, times := e.publish(t, app, 5)
	e.publish(t, noHistory, 2)
	// What the meter would have folded: each message in its minute, and
	// the stream counted up to the last of them.
	perMinute := map[time.Time]int64{}
	for i, ts := range times {
		perMinute[billing.Minute.Start(ts)]++
		e.exec(t, `insert into messages (stream, serial, app_id, channel, event, data, published_at)
			values ($1, $2, $3, 'c', 'e', '{}', $4)`, stream.StreamName(0), int64(serials[i]), app, ts)
	}
	for start, n := range perMinute {
		insertUsage(t, e.pool, usageRow{e.acct.ID, app, billing.Minute, start.Format(time.RFC3339Nano), billing.Counters{MessagesPublished: n}})
	}
	e.exec(t, `insert into usage_stream_marks (stream, last_serial) values ($1, $2)`, stream.StreamName(0), int64(serials[len(serials)-1]+2))
	// Published after the mark: the meter has yet to count it, and so
	// does the reconciliation.
	e.publish(t, app, 1)
	// Outside the retention: the history says nothing.
	insertUsage(t, e.pool, usageRow{e.acct.ID, app, billing.Minute, "2020-01-01T00:00:00Z", billing.Counters{MessagesPublished: 3}})

	first := billing.Minute.Start(times[0])
	q := url.Values{"granularity": {"minute"}, "from": {first.Add(-time.Minute).Format(time.RFC3339)},
		"to": {first.Add(2 * time.Minute).Format(time.RFC3339)}}
	check := func(name string, rep controlplane.ReconcileReport, differences int, wantHistory bool) {
		t.Helper()
		var total int64
		for _, it := range rep.Items {
			total += it.Metered
			if it.Stream == nil || (it.History == nil) == wantHistory {
				t.Errorf("%s: item %+v: stream or history missing", name, it)
			}
		}
		if rep.Differences != differences || rep.Stream != "HERALD_MSG" || len(rep.Items) == 0 {
			t.Errorf("%s: %+v, want %d differences", name, rep, differences)
		}
	}
	check("match", e.reconcile(t, app, q), 0, true)

	e.exec(t, `update usage set messages_published = messages_published + 1 where app_id = $1 and period_start = $2`, app, billing.Minute.Start(times[0]))
	rep := e.reconcile(t, app, q)
	check("metered one too many", rep, 1, true)
	e.exec(t, `update usage set messages_published = messages_published - 1 where app_id = $1 and period_start = $2`, app, billing.Minute.Start(times[0]))

	e.exec(t, `delete from messages where serial = $1`, int64(serials[0]))
	rep = e.reconcile(t, app, q)
	check("history lost one", rep, 1, true)
	for _, it := range rep.Items {
		if it.Differs && (*it.Stream != it.Metered || *it.History != it.Metered-1) {
			t.Errorf("history lost one: %+v", it)
		}
	}

	// The app without history: the stream holds its 2 messages, the meter
	// counted none.
	rep = e.reconcile(t, noHistory, q)
	check("unmetered app", rep, len(rep.Items), false)

	old := url.Values{"granularity": {"minute"}, "from": {"2020-01-01T00:00:00Z"}, "to": {"2020-01-01T00:05:00Z"}}
	rep = e.reconcile(t, app, old)
	if len(rep.Items) != 1 || rep.Items[0].Metered != 3 || *rep.Items[0].Stream != 0 || rep.Items[0].History != nil || rep.Differences != 1 {
		t.Errorf("stream that never lost a message: %+v", rep)
	}
	// Once the stream has lost messages, it says nothing of the periods
	// before the oldest it holds.
	s, err := e.js.Stream(context.Background(), stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep = e.reconcile(t, app, old)
	if len(rep.Items) != 1 || rep.Items[0].Stream != nil || rep.Differences != 0 {
		t.Errorf("before the stream's oldest message: %+v", rep)
	}
	for _, it := range e.reconcile(t, app, q).Items {
		if it.Stream != nil || it.History == nil {
			t.Errorf("after a purge: %+v", it)
		}
	}
	e.s.do(t, http.MethodGet, "/admin/v1/apps/nope/usage/reconcile", nil).wantError(t, http.StatusNotFound, "not_found", "")
}
