package billing_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/testinfra"
)

// benchPublishInterval paces BenchmarkPublishedCounterAtRate at 1,000
// messages per second, issue 23's persisted-publish shape.
const benchPublishInterval = time.Millisecond

// BenchmarkPublishedCounterAtRate publishes b.N messages at 1,000 per
// second while a PublishedCounter with its default batch and wait counts
// them, and reports the process's CPU and context switches per message
// (the embedded NATS server's included) once all are counted. Between builds the publishes
// cost the same: what moves is what the counter's fetches cost per
// message; counter=off is the publishes alone, for scale. Run it with a
// fixed count (-benchtime 3000x): its wall time is the pacing.
func BenchmarkPublishedCounterAtRate(b *testing.B) {
	for _, counter := range []bool{false, true} {
		name := "counter=off"
		if counter {
			name = "counter=on"
		}
		b.Run(name, func(b *testing.B) { benchPublishedCounter(b, counter) })
	}
}

func benchPublishedCounter(b *testing.B, counter bool) {
	e := newFoldEnv(b)
	if err := stream.Ensure(b.Context(), e.js, stream.StreamConfig{}); err != nil {
		b.Fatal(err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: e.js})
	if err != nil {
		b.Fatal(err)
	}
	if counter {
		c, err := billing.NewPublishedCounter(billing.PublishedConfig{JS: e.js, Store: e.store})
		if err != nil {
			b.Fatal(err)
		}
		runInBackground(b, c.Run)
	}
	m := stream.Message{AppID: "app", Channel: "news", Event: "e", Data: []byte("1234"), Source: stream.SourceAPI}
	tick := time.NewTicker(benchPublishInterval)
	defer tick.Stop()
	cpu, switches := testinfra.ProcessCPU(b), testinfra.ContextSwitches(b)
	n := int64(0)
	for b.Loop() {
		<-tick.C
		if _, _, err := pub.Publish(b.Context(), m); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if counter {
		e.waitMonth(b, "app", billing.Counters{MessagesPublished: n, BytesIn: 4 * n})
	}
	b.ReportMetric(float64((testinfra.ProcessCPU(b)-cpu).Nanoseconds())/float64(n), "cpu-ns/msg")
	b.ReportMetric(float64(testinfra.ContextSwitches(b)-switches)/float64(n), "ctxsw/msg")
}
