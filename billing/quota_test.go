package billing_test

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// totals is a TotalsSource tests set by hand.
type totals struct {
	mu sync.Mutex
	m  map[string]*quota.Entry
}

func (s *totals) Totals(id string) (*quota.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	return e, ok
}

func (s *totals) set(id string, e quota.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*quota.Entry{}
	}
	s.m[id] = &e
}

// noon is mid-period: 2026-03-15 12:00 UTC.
var noon = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func day(t time.Time) time.Time   { return billing.Day.Start(t) }
func month(t time.Time) time.Time { return billing.Month.Start(t) }

func quotaApp(q channels.Quota) *channels.AppConfig {
	return &channels.AppConfig{ID: "app1", AccountID: "acc1", Quota: q}
}

func newEnforcer(t *testing.T, c *clock, src billing.TotalsSource) *billing.Enforcer {
	t.Helper()
	e, err := billing.NewEnforcer(billing.EnforcerConfig{Totals: src, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEnforcerMessageQuotas(t *testing.T) {
	untilMidnight := 12 * time.Hour
	untilApril := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Sub(noon)
	cases := []struct {
		name    string
		q       channels.Quota
		entry   *quota.Entry
		n       int
		want    billing.Verdict
		reserve bool
	}{
		{name: "unlimited", q: channels.Quota{}, n: 1000, want: billing.Verdict{}},
		{name: "within day", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 10},
			entry: &quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 5, MonthMessages: 5}, n: 5, reserve: true},
		{name: "over day hard", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 10},
			entry: &quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 5, MonthMessages: 5}, n: 6,
			want: billing.Verdict{Exceeded: billing.QuotaMessagesPerDay, Refused: true, Limit: 10, RetryAfter: untilMidnight}},
		{name: "over day soft", q: channels.Quota{Enforcement: channels.EnforceSoft, MaxMessagesPerDay: 10},
			entry: &quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 10, MonthMessages: 10}, n: 1, reserve: true,
			want: billing.Verdict{Exceeded: billing.QuotaMessagesPerDay, Limit: 10, AtLimit: true, RetryAfter: untilMidnight}},
		{name: "over month hard", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 100, MaxMessagesPerMonth: 50},
			entry: &quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 0, MonthMessages: 50}, n: 1,
			want: billing.Verdict{Exceeded: billing.QuotaMessagesPerMonth, Refused: true, Limit: 50, AtLimit: true, RetryAfter: untilApril}},
		{name: "yesterday's totals count nothing today", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 10},
			entry: &quota.Entry{Day: day(noon).AddDate(0, 0, -1), Month: month(noon), DayMessages: 1000, MonthMessages: 1000}, n: 10, reserve: true},
		{name: "last month's totals count nothing this month", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerMonth: 10},
			entry: &quota.Entry{Day: day(noon).AddDate(0, -1, 0), Month: month(noon).AddDate(0, -1, 0), DayMessages: 9, MonthMessages: 99}, n: 10, reserve: true},
		{name: "no totals yet", q: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 3}, n: 3, reserve: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: noon}
			src := &totals{}
			if tc.entry != nil {
				src.set("acc1", *tc.entry)
			}
			e := newEnforcer(t, c, src)
			v, r := e.CheckPublish(quotaApp(tc.q), tc.n)
			if v != tc.want {
				t.Fatalf("verdict = %+v, want %+v", v, tc.want)
			}
			// A second check sees the first one's reservation.
			if tc.reserve && tc.q.Hard() {
				v2, _ := e.CheckPublish(quotaApp(tc.q), 1)
				if !v2.Refused {
					t.Fatalf("a check after a reservation that filled the quota passed: %+v", v2)
				}
				r.Release()
				if v3, _ := e.CheckPublish(quotaApp(tc.q), 1); v3.Refused {
					t.Fatalf("released reservation still counts: %+v", v3)
				}
			}
		})
	}
}

// What the process accepted counts until the totals' marks cover it, and
// then only through the totals; duplicates and released messages never
// count.
func TestEnforcerOwnAcceptedBeyondMarks(t *testing.T) {
	c := &clock{t: noon}
	src := &totals{}
	src.set("acc1", quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 5, MonthMessages: 5,
		Marks: map[string]uint64{channels.MessageStream: 10}})
	e := newEnforcer(t, c, src)
	app := quotaApp(channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 10})

	v, r := e.CheckPublish(app, 4)
	if v.Refused {
		t.Fatalf("refused at 5 of 10: %+v", v)
	}
	r.Accepted(11, false)
	r.Accepted(12, false)
	r.Accepted(7, true) // an idempotent retry: counted before
	r.Release()         // the fourth was not stored
	// 5 in the totals + 2 own = 7: three more pass, four do not.
	if v, _ := e.CheckPublish(app, 4); !v.Refused {
		t.Fatalf("4 more at 7 of 10 passed")
	}
	// The fold covered serial 11 (counted in the totals, now 6) and the
	// process's 12 still counts on its own: 7 again.
	src.set("acc1", quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 6, MonthMessages: 6,
		Marks: map[string]uint64{channels.MessageStream: 11}})
	if v, _ := e.CheckPublish(app, 4); !v.Refused {
		t.Fatalf("4 more at 7 of 10 passed after a fold")
	}
	v, r = e.CheckPublish(app, 3)
	if v.Refused {
		t.Fatalf("3 more at 7 of 10 refused: %+v", v)
	}
	r.Release()
	// A fold covering 12: totals 7, nothing own.
	src.set("acc1", quota.Entry{Day: day(noon), Month: month(noon), DayMessages: 7, MonthMessages: 7,
		Marks: map[string]uint64{channels.MessageStream: 12}})
	if v, _ := e.CheckPublish(app, 4); !v.Refused {
		t.Fatalf("4 more at 7 of 10 passed after the second fold")
	}
}

// Day and month reset at 00:00 UTC, on the injected clock, with the own
// counts and without a new fold; Retry-After is the time to the reset.
func TestEnforcerRollover(t *testing.T) {
	eve := time.Date(2026, 3, 31, 23, 59, 30, 0, time.UTC)
	c := &clock{t: eve}
	src := &totals{}
	src.set("acc1", quota.Entry{Day: day(eve), Month: month(eve), DayMessages: 2, MonthMessages: 8})
	e := newEnforcer(t, c, src)
	app := quotaApp(channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 5, MaxMessagesPerMonth: 10})

	v, r := e.CheckPublish(app, 2)
	if v.Refused {
		t.Fatalf("refused: %+v", v)
	}
	r.Accepted(1, false)
	r.Accepted(2, false)
	v, _ = e.CheckPublish(app, 1)
	want := billing.Verdict{Exceeded: billing.QuotaMessagesPerMonth, Refused: true, Limit: 10, AtLimit: true, RetryAfter: 30 * time.Second}
	if v != want {
		t.Fatalf("at the month's end: %+v, want %+v", v, want)
	}
	c.Set(eve.Add(30 * time.Second)) // 2026-04-01 00:00
	v, r = e.CheckPublish(app, 5)
	if v.Refused {
		t.Fatalf("refused after the rollover: %+v", v)
	}
	for i := range 5 {
		r.Accepted(uint64(3+i), false)
	}
	v, _ = e.CheckPublish(app, 1)
	want = billing.Verdict{Exceeded: billing.QuotaMessagesPerDay, Refused: true, Limit: 5, AtLimit: true, RetryAfter: 24 * time.Hour}
	if v != want {
		t.Fatalf("a day's quota after the rollover: %+v, want %+v", v, want)
	}
}

func TestEnforcerPublishRate(t *testing.T) {
	cases := []struct {
		name      string
		hard      bool
		wantFirst billing.Verdict
	}{
		{name: "hard", hard: true, wantFirst: billing.Verdict{Exceeded: billing.QuotaPublishRate, Refused: true, Limit: 4, RetryAfter: 250 * time.Millisecond}},
		{name: "soft", wantFirst: billing.Verdict{Exceeded: billing.QuotaPublishRate, Limit: 4, RetryAfter: 250 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: noon}
			e := newEnforcer(t, c, nil)
			q := channels.Quota{Enforcement: channels.EnforceSoft, PublishRate: 4}
			if tc.hard {
				q.Enforcement = channels.EnforceHard
			}
			app := quotaApp(q)
			// Burst: one second of rate.
			for i := range 4 {
				if v, r := e.CheckPublish(app, 1); v.Exceeded != billing.QuotaNone {
					t.Fatalf("message %d of the burst: %+v", i, v)
				} else {
					r.Release()
				}
			}
			if v, r := e.CheckPublish(app, 1); v != tc.wantFirst {
				t.Fatalf("past the burst: %+v, want %+v", v, tc.wantFirst)
			} else {
				r.Release()
			}
			c.Set(noon.Add(250 * time.Millisecond))
			if v, _ := e.CheckPublish(app, 1); v.Exceeded != billing.QuotaNone {
				t.Fatalf("after a refill of one: %+v", v)
			}
			// A publish larger than the burst passes on a full bucket.
			c.Set(noon.Add(5 * time.Second))
			if v, _ := e.CheckPublish(app, 10); v.Exceeded != billing.QuotaNone {
				t.Fatalf("a large publish on a full bucket: %+v", v)
			}
		})
	}
}

func TestEnforcerConnections(t *testing.T) {
	e := newEnforcer(t, &clock{t: noon}, nil)
	cases := []struct {
		q     channels.Quota
		conns int64
		want  billing.Verdict
	}{
		{channels.Quota{}, 1 << 20, billing.Verdict{}},
		{channels.Quota{Enforcement: channels.EnforceHard, MaxConnections: 3}, 2, billing.Verdict{}},
		{channels.Quota{Enforcement: channels.EnforceHard, MaxConnections: 3}, 3,
			billing.Verdict{Exceeded: billing.QuotaConnections, Refused: true, Limit: 3, AtLimit: true}},
		{channels.Quota{Enforcement: channels.EnforceSoft, MaxConnections: 3}, 3,
			billing.Verdict{Exceeded: billing.QuotaConnections, Limit: 3, AtLimit: true}},
	}
	for _, tc := range cases {
		if got := e.CheckConnections(quotaApp(tc.q), tc.conns); got != tc.want {
			t.Errorf("%+v at %d: %+v, want %+v", tc.q, tc.conns, got, tc.want)
		}
	}
}

// Concurrent checks in one process never let more through than the
// quota: the bound "one process never overshoots".
func TestEnforcerNoOvershootInOneProcess(t *testing.T) {
	c := &clock{t: noon}
	e := newEnforcer(t, c, nil)
	app := quotaApp(channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 1000})
	var (
		mu       sync.Mutex
		accepted int
		serial   uint64
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 500 {
				v, r := e.CheckPublish(app, 1)
				if v.Refused {
					continue
				}
				mu.Lock()
				accepted++
				serial++
				s := serial
				mu.Unlock()
				r.Accepted(s, false)
			}
		})
	}
	wg.Wait()
	if accepted != 1000 {
		t.Fatalf("accepted %d of a quota of 1000", accepted)
	}
}
