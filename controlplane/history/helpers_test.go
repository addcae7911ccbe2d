package history_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// Generous for a small shared machine; nothing waits this long when the
// code works.
const (
	testTimeout  = 60 * time.Second
	pollInterval = 10 * time.Millisecond
	testApp      = "app1"
)

// natsEnv is an embedded NATS server with the message stream and a
// publisher.
type natsEnv struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *stream.Publisher
}

func newNATS(tb testing.TB) natsEnv {
	tb.Helper()
	s := testinfra.NATS(tb)
	nc := testinfra.NATSConn(tb, s)
	js := testinfra.JetStream(tb, nc)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := stream.Ensure(ctx, js, stream.StreamConfig{}); err != nil {
		tb.Fatalf("ensure stream: %v", err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js, Timeout: testTimeout, Logger: testinfra.Logger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return natsEnv{nc: nc, js: js, pub: pub}
}

// db is a migrated database and a Store on it.
type db struct {
	url   string
	pool  *pgxpool.Pool
	store *postgres.Store
}

// newDB migrates the database at url ("" means a fresh one on the shared
// cluster).
func newDB(tb testing.TB, url string) db {
	tb.Helper()
	if url == "" {
		url = testinfra.Postgres(tb)
	}
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	store, pool := testenv.OpenStore(tb, url)
	return db{url: url, pool: pool, store: store}
}

// count is how many messages the history holds.
func (d db) count(tb testing.TB) int {
	tb.Helper()
	var n int
	if err := d.pool.QueryRow(context.Background(), "select count(*) from messages").Scan(&n); err != nil {
		tb.Fatalf("count messages: %v", err)
	}
	return n
}

// serials lists the stored serials in order.
func (d db) serials(tb testing.TB) []uint64 {
	tb.Helper()
	rows, err := d.pool.Query(context.Background(), "select serial from messages order by serial")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, uint64(s))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// startWriter runs a writer until the returned stop is called or the test
// ends.
func startWriter(tb testing.TB, cfg history.Config) (w *history.Writer, stop func()) {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testinfra.Logger(tb)
	}
	w, err := history.NewWriter(cfg)
	if err != nil {
		tb.Fatalf("NewWriter: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			tb.Errorf("Writer.Run = %v, want context.Canceled", err)
		}
	}
	tb.Cleanup(stop)
	return w, stop
}

// publish stores n messages on channels chan-0 … chan-<channels-1> of app
// in turns and returns their serials.
func publish(tb testing.TB, pub *stream.Publisher, app string, n, channels int) []uint64 {
	tb.Helper()
	const chunk = 500
	var serials []uint64
	for start := 0; start < n; start += chunk {
		msgs := make([]stream.Message, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			msgs = append(msgs, stream.Message{
				AppID: app, Channel: fmt.Sprintf("chan-%d", i%channels), Event: "ev",
				Data: []byte(fmt.Sprintf(`{"i":%d}`, i)), Source: stream.SourceAPI,
			})
		}
		res, err := pub.PublishBatch(context.Background(), msgs)
		if err != nil {
			tb.Fatalf("publish: %v", err)
		}
		for _, r := range res {
			serials = append(serials, r.Serial)
		}
	}
	slices.Sort(serials)
	return serials
}

// metric reads one series of reg: the value of a counter or gauge, the
// sample count of a histogram.
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}
