package billing

import (
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

// maxOwnPending bounds the publishes an account keeps by serial while the
// totals do not cover them (an aggregator that is down): past it, further
// publishes count by period only, until the period ends, which may count
// them twice once the totals catch up (it errs towards refusing).
const maxOwnPending = 1 << 16

// appQuota is one app's state in an Enforcer.
type appQuota struct {
	id      string
	shard   int
	stream  string
	account *accountQuota
	meter   *AppMeter
	rate    rateBucket
	// exceeded are the counters its overages count in.
	exceeded *quotaCounters
}

// ownPublish is a message this process accepted, not yet known to be in
// the totals.
type ownPublish struct {
	stream string
	serial uint64
	p      periodKeys
}

// accountQuota is what this process knows of an account's usage beyond
// the totals. mu guards the rest and the account's apps' rate buckets.
type accountQuota struct {
	id   string
	mu   sync.Mutex
	apps []*appQuota
	// reserved are messages checked and not yet stored or released.
	reserved int64
	// pending are accepted messages above the totals' marks; seen is the
	// totals they were pruned against and at the periods they were
	// pruned in.
	pending []ownPublish
	seen    *quota.Entry
	seenP   periodKeys
	// ownDay and ownMonth count pending in the current periods, and
	// overflowDay and overflowMonth what maxOwnPending left unmarked.
	ownDay, ownMonth           int64
	overflowDay, overflowMonth int64
}

func (a *accountQuota) addApp(aq *appQuota) {
	if !slices.Contains(a.apps, aq) {
		a.apps = append(a.apps, aq)
	}
}

// check judges n more messages against the day and month quotas. It is
// called with the account's lock held.
func (a *accountQuota) check(q *channels.Quota, totals *quota.Entry, p periodKeys, n int64, now time.Time) Verdict {
	if q.MaxMessagesPerDay <= 0 && q.MaxMessagesPerMonth <= 0 {
		return Verdict{}
	}
	a.prune(totals, p)
	day, month := a.used(totals, p)
	switch {
	case q.MaxMessagesPerDay > 0 && day+n > q.MaxMessagesPerDay:
		return a.over(q, QuotaMessagesPerDay, q.MaxMessagesPerDay, day, now)
	case q.MaxMessagesPerMonth > 0 && month+n > q.MaxMessagesPerMonth:
		return a.over(q, QuotaMessagesPerMonth, q.MaxMessagesPerMonth, month, now)
	}
	return Verdict{}
}

func (a *accountQuota) over(q *channels.Quota, k QuotaKind, limit, used int64, now time.Time) Verdict {
	return Verdict{Exceeded: k, Refused: q.Hard(), Limit: limit, AtLimit: used >= limit, RetryAfter: untilReset(k, now)}
}

// used is the account's messages in the current day and month: the
// totals (when they are of these periods), what this process accepted
// above their marks or has reserved, and its deliveries and presence
// events not yet flushed, or flushed in a flush the totals do not hold.
func (a *accountQuota) used(totals *quota.Entry, p periodKeys) (day, month int64) {
	s := a
	if totals != nil {
		if p.isDay(totals.Day) {
			day = totals.DayMessages
		}
		if p.isMonth(totals.Month) {
			month = totals.MonthMessages
		}
	}
	var folded map[string]uint64
	if totals != nil {
		folded = totals.Flushes
	}
	dayOwn, monthOwn := s.ownDay+s.overflowDay, s.ownMonth+s.overflowMonth
	for _, aq := range s.apps {
		if aq.meter != nil {
			live, d, m := aq.meter.quotaUse(folded, p)
			dayOwn += live + d
			monthOwn += live + m
		}
	}
	return day + s.reserved + dayOwn, month + s.reserved + monthOwn
}

// accept records one stored message.
func (a *accountQuota) accept(stream string, serial uint64, p periodKeys) {
	s := a
	if p != s.seenP {
		// A period ended since the last prune: recount first.
		a.prune(s.seen, p)
	}
	if len(s.pending) >= maxOwnPending {
		s.overflowDay++
		s.overflowMonth++
		return
	}
	s.pending = append(s.pending, ownPublish{stream: stream, serial: serial, p: p})
	s.ownDay++
	s.ownMonth++
}

// prune drops the pending messages the totals cover (at or below their
// stream's mark) or that belong to a month that ended, and recounts the
// rest per period. It runs only when the totals or the periods changed.
func (a *accountQuota) prune(totals *quota.Entry, p periodKeys) {
	s := a
	if totals == s.seen && p == s.seenP {
		return
	}
	if p.day != s.seenP.day {
		s.overflowDay = 0
	}
	if p.month != s.seenP.month {
		s.overflowMonth = 0
	}
	s.seen, s.seenP = totals, p
	kept := s.pending[:0]
	s.ownDay, s.ownMonth = 0, 0
	for _, o := range s.pending {
		if o.p.month != p.month || (totals != nil && o.serial <= totals.Marks[o.stream]) {
			continue
		}
		kept = append(kept, o)
		s.ownMonth++
		if o.p.day == p.day {
			s.ownDay++
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}
