package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/internal/testinfra"
)

// benchChannels is the burst of the issue: 10,000 channels occupied and
// vacated, 20,000 events.
const benchChannels = 10000

// BenchmarkDispatchBatched measures events per second from the stream to
// a batch endpoint: publish the burst, wait until the endpoint has every
// event. The batch gap is lifted to 1 ms, so what is measured is the
// dispatcher (consume, queue, cut, sign, send, record), not the one
// request per second a batch endpoint gets by default (100 events/s per
// endpoint by design).
func BenchmarkDispatchBatched(b *testing.B) {
	e := newBenchEnv(b)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var v struct{ Events []json.RawMessage }
		_ = json.Unmarshal(body, &v)
		got.Add(int64(len(v.Events)))
	}))
	b.Cleanup(srv.Close)
	e.benchEndpoint(b, srv.URL)
	cfg := e.fastConfig()
	cfg.BatchGap = time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)

	evs := make([]channels.WebhookEvent, 0, 2*benchChannels)
	for i := range benchChannels {
		evs = append(evs, occupied(fmt.Sprintf("presence-%d", i)))
	}
	for i := range benchChannels {
		evs = append(evs, vacated(fmt.Sprintf("presence-%d", i)))
	}
	var elapsed time.Duration
	var want int64
	b.ResetTimer()
	for range b.N {
		// The burst waits in the stream; the dispatcher starts on it.
		b.StopTimer()
		for _, ev := range evs {
			env := channels.WebhookEnvelope{AppID: appID, TimeMS: time.Now().UnixMilli(), Event: ev}
			if err := webhookevents.Publish(context.Background(), e.js, env, ""); err != nil {
				b.Fatal(err)
			}
		}
		want += int64(len(evs))
		d, err := webhooks.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { defer close(done); _ = d.Run(ctx) }()
		testinfra.WaitUntilWithin(b, "every event", 5*time.Minute, func() bool { return got.Load() >= want })
		elapsed += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		b.StartTimer()
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "events/s")
}
