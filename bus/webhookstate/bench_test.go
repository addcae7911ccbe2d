package webhookstate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookevents"
)

// burstChannels is the size of BenchmarkBurst's bursts.
const burstChannels = 10_000

// BenchmarkBurst occupies burstChannels channels on one gateway at once
// and then vacates them all: the whole path from the gateway's reporter
// through the bucket, the decider and the emitter into
// HERALD_WEBHOOK_EVENTS, on one embedded NATS server. An operation ends
// when the stream holds the burst's 2 × burstChannels events
// (channel_occupied and channel_vacated; the leave delay is 100 ms and
// counts in the time).
func BenchmarkBurst(b *testing.B) {
	e := newEnv(b)
	g := e.gateway(b, "gw-bench")
	e.deciderWith(b, 100*time.Millisecond)
	ctx := b.Context()
	s, err := e.js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		b.Fatal(err)
	}
	stored := func() uint64 {
		info, err := s.Info(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return info.State.Msgs
	}
	want := stored()
	round := 0
	b.ResetTimer()
	for b.Loop() {
		round++
		for i := range burstChannels {
			g.set(fmt.Sprintf("burst-%d-%d", round, i), 1)
		}
		want += burstChannels // occupied
		waitStored(b, stored, want)
		for i := range burstChannels {
			g.set(fmt.Sprintf("burst-%d-%d", round, i), 0)
		}
		want += burstChannels // vacated
		waitStored(b, stored, want)
	}
	b.ReportMetric(float64(2*burstChannels*b.N)/b.Elapsed().Seconds(), "events/s")
}

func waitStored(b *testing.B, stored func() uint64, want uint64) {
	deadline := time.Now().Add(2 * time.Minute)
	for stored() < want {
		if time.Now().After(deadline) {
			b.Fatalf("stream holds %d events, want %d", stored(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
