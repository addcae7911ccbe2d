package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// staticApps serves one app config, as the config KV cache does.
type staticApps map[string]*channels.AppConfig

func (s staticApps) App(id string) (*channels.AppConfig, bool) {
	a, ok := s[id]
	return a, ok
}

// publishBench is the tenant API as the platform builds it for the publish
// path (real middleware chain, signature check, auth guard, metrics, and
// a JetStream publisher on an embedded NATS with the message stream), with
// the logger at warn level as in production.
type publishBench struct {
	handler http.Handler
	now     time.Time
}

const (
	benchApp    = "bench-app"
	benchKey    = "bench-key"
	benchSecret = "bench-secret"
	// benchClient is not loopback, so that the auth guard does its work.
	benchClient = "192.0.2.1:40000"
)

// storedAtOnce answers every publish at once as stored, for the benchmark
// of the handler chain alone: with a JetStream round trip in each
// request, the chain's few microseconds drown in the round trip's
// scheduling on a shared machine.
type storedAtOnce struct{}

func (storedAtOnce) PublishBatch(_ context.Context, msgs []stream.Message) ([]stream.Result, error) {
	res := make([]stream.Result, len(msgs))
	for i := range res {
		res[i].Serial = uint64(i + 1)
	}
	return res, nil
}

// newStreamPublisher is a publisher into the message stream of an
// embedded NATS server.
func newStreamPublisher(b *testing.B) *stream.Publisher {
	b.Helper()
	js := testinfra.JetStream(b, testinfra.NATSConn(b, testinfra.NATS(b)))
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	if err := stream.Ensure(ctx, js, stream.StreamConfig{}); err != nil {
		b.Fatalf("ensure: %v", err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js})
	if err != nil {
		b.Fatal(err)
	}
	return pub
}

func newPublishBench(b *testing.B, events api.EventPublisher) *publishBench {
	b.Helper()
	store, _ := testenv.OpenStore(b, testenv.MigratedPostgres(b))
	box := testenv.MasterBox(b)
	app := &channels.AppConfig{ID: benchApp, Enabled: true, Settings: channels.DefaultSettings(),
		Keys: []channels.AppKey{{Key: benchKey, SealedSecret: box.Seal([]byte(benchSecret), channels.SecretAAD(benchApp, benchKey))}}}
	guard, err := authguard.New(authguard.Config{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	a, err := api.New(api.Config{
		Store: store, Apps: staticApps{benchApp: app}, Box: box, Events: events,
		AuthGuard: guard, Registerer: prometheus.NewRegistry(), Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &publishBench{handler: a.Handler(), now: now}
}

// signedURL signs a POST of body to path once; the API's clock is frozen
// so that the same request can be sent b.N times.
func (p *publishBench) signedURL(path string, body []byte) string {
	q := url.Values{}
	q.Set(channels.ParamAuthKey, benchKey)
	q.Set(channels.ParamAuthTimestamp, strconv.FormatInt(p.now.Unix(), 10))
	q.Set(channels.ParamAuthVersion, channels.RequestAuthVersion)
	q.Set(channels.ParamBodyMD5, channels.BodyMD5(body))
	q.Set(channels.ParamAuthSignature, channels.HMACSHA256Hex(benchSecret, channels.RequestStringToSign(http.MethodPost, path, q)))
	return path + "?" + q.Encode()
}

// BenchmarkTenantPublish measures one REST publish through the whole
// handler chain, without the network: POST /events to one channel, and
// POST /batch_events with three events. With store=jetstream each answer
// waits for the JetStream ack of an embedded NATS server, as in
// production, and cpu-ns/op and ctxsw/op (the process's CPU and context
// switches per request: how often its threads went to sleep to wait for
// a hand-off) include the server's share; with store=none the publisher answers at once, which
// measures the middlewares, the signature, the decoding and the answer
// alone.
func BenchmarkTenantPublish(b *testing.B) {
	cases := []struct {
		name, path, body string
	}{
		{"events", "/apps/" + benchApp + "/events",
			`{"name":"ev","data":"` + string(bytes.Repeat([]byte("x"), 100)) + `","channel":"bench-1"}`},
		{"batch3", "/apps/" + benchApp + "/batch_events",
			`{"batch":[{"name":"ev","data":"a","channel":"bench-1"},{"name":"ev","data":"b","channel":"bench-2"},{"name":"ev","data":"c","channel":"bench-3"}]}`},
	}
	for _, store := range []string{"none", "jetstream"} {
		b.Run("store="+store, func(b *testing.B) {
			var events api.EventPublisher = storedAtOnce{}
			if store == "jetstream" {
				events = newStreamPublisher(b)
			}
			p := newPublishBench(b, events)
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) { p.run(b, tc.path, []byte(tc.body)) })
			}
		})
	}
}

// run sends the signed request b.N times, each to a fresh recorder.
func (p *publishBench) run(b *testing.B, path string, body []byte) {
	target := p.signedURL(path, body)
	b.ReportAllocs()
	cpu, switches := testinfra.ProcessCPU(b), testinfra.ContextSwitches(b)
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.RemoteAddr = benchClient
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		p.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("publish = %d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64((testinfra.ProcessCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(testinfra.ContextSwitches(b)-switches)/float64(b.N), "ctxsw/op")
}
