package billing_test

import (
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

// BenchmarkQuotaCheck is the publish path's cost: one check, one
// accepted message, against totals that change now and then.
func BenchmarkQuotaCheck(b *testing.B) {
	c := &clock{t: noon}
	src := &totals{}
	src.set("acc1", quota.Entry{Day: day(noon), Month: month(noon), Marks: map[string]uint64{channels.MessageStream: 0}})
	e, err := billing.NewEnforcer(billing.EnforcerConfig{Totals: src, Now: c.Now, Meter: billing.NewMeter(nil)})
	if err != nil {
		b.Fatal(err)
	}
	app := quotaApp(channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 1 << 40,
		MaxMessagesPerMonth: 1 << 41, PublishRate: 1 << 30})
	// Two entries take turns, so that each fold is a new pointer without
	// allocating in the loop.
	var entries [2]*quota.Entry
	for i := range entries {
		entries[i] = &quota.Entry{Day: day(noon), Month: month(noon), Marks: map[string]uint64{channels.MessageStream: 0}}
	}
	b.ReportAllocs()
	var serial uint64
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			// A fold covering what was accepted so far landed: the
			// next check prunes.
			next := entries[(i/1000)%2]
			next.Marks[channels.MessageStream] = serial
			next.DayMessages = int64(serial)
			src.mu.Lock()
			src.m["acc1"] = next
			src.mu.Unlock()
		}
		v, r := e.CheckPublish(app, 1)
		if v.Refused {
			b.Fatal("refused")
		}
		serial++
		r.Accepted(serial, false)
	}
}

// BenchmarkQuotaCheckUnlimited is the cost for an app without a plan.
func BenchmarkQuotaCheckUnlimited(b *testing.B) {
	e, err := billing.NewEnforcer(billing.EnforcerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	app := quotaApp(channels.Quota{})
	b.ReportAllocs()
	for b.Loop() {
		_, r := e.CheckPublish(app, 1)
		r.Accepted(1, false)
	}
}
