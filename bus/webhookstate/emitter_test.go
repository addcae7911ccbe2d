package webhookstate_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

// The emitter stores each channel's events in the order they were
// emitted, however many channels are in flight, and an event emitted
// again under its id is stored once.
func TestEmitterOrderAndDedupe(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	em, err := webhookstate.NewEmitter(webhookstate.EmitterConfig{JS: e.js, Concurrency: 8, Source: "test", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	background(t, em.Run)
	kinds := []channels.WebhookEventName{channels.WebhookChannelOccupied, channels.WebhookMemberAdded, channels.WebhookChannelVacated}
	var evs []webhookstate.Event
	for _, k := range kinds {
		for c := range 50 {
			ch := fmt.Sprintf("c%02d", c)
			evs = append(evs, webhookstate.Event{
				Env:   channels.WebhookEnvelope{AppID: "app", Event: channels.WebhookEvent{Name: k, Channel: ch}},
				MsgID: ch + "/" + string(k),
			})
		}
	}
	em.Emit(evs...)
	em.Emit(evs[:10]...) // published again: stored once
	testinfra.WaitUntil(t, "every event stored", func() bool { return em.Pending() == 0 && len(e.events(t)) >= len(evs) })
	got := e.events(t)
	if len(got) != len(evs) {
		t.Fatalf("stored %d events, want %d", len(got), len(evs))
	}
	var want []string
	for c := range 50 {
		for _, k := range kinds {
			want = append(want, fmt.Sprintf("%s c%02d", k, c))
		}
	}
	if !slices.Equal(testinfra.PerChannel(got), want) {
		t.Fatalf("per-channel order broken: %v", testinfra.PerChannel(got))
	}
	// Every publish counts, the ten repeated included: the stream, not
	// the emitter, knows they were duplicates.
	testinfra.WaitUntil(t, "the published metric", func() bool {
		return publishedTotal(t, reg) == float64(len(evs)+10)
	})
}

// publishedTotal reads herald_webhook_events_published_total.
func publishedTotal(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "herald_webhook_events_published_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
