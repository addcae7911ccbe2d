package billing

import (
	"strconv"
	"sync/atomic"
	"time"
)

// QuotaKind names one quota of a plan, in refusals, metrics and events.
type QuotaKind uint8

// The quotas the edge enforces.
const (
	// QuotaNone: within every quota.
	QuotaNone QuotaKind = iota
	QuotaMessagesPerDay
	QuotaMessagesPerMonth
	QuotaPublishRate
	QuotaConnections
)

// quotaNames are the plan limits' names (channels.Quota's JSON fields).
var quotaNames = [...]string{"", "max_messages_per_day", "max_messages_per_month", "publish_rate", "max_connections"}

// String is the plan limit's name.
func (k QuotaKind) String() string {
	if int(k) < len(quotaNames) {
		return quotaNames[k]
	}
	return "quota_" + strconv.Itoa(int(k))
}

// secondsPerDay turns a Unix time into its UTC day number.
const secondsPerDay = 24 * 60 * 60

// periodKeys are the current UTC day and month as small integers, cheap
// to compare on the publish path: the day number and the Unix time of
// the month's start.
type periodKeys struct {
	day   int64
	month int64
}

func periodsOf(t time.Time) periodKeys {
	return periodKeys{day: floorDiv(t.Unix(), secondsPerDay), month: Month.Start(t).Unix()}
}

// periodCache remembers the last day's keys: the month's start costs a
// calendar computation, the day's number a division.
type periodCache struct {
	last atomic.Pointer[periodKeys]
}

func (c *periodCache) of(t time.Time) periodKeys {
	day := floorDiv(t.Unix(), secondsPerDay)
	if p := c.last.Load(); p != nil && p.day == day {
		return *p
	}
	p := periodsOf(t)
	c.last.Store(&p)
	return p
}

// isDay and isMonth report whether a period start is the day or the
// month of p.
func (p periodKeys) isDay(start time.Time) bool {
	return floorDiv(start.Unix(), secondsPerDay) == p.day
}
func (p periodKeys) isMonth(start time.Time) bool { return start.Unix() == p.month }

// floorDiv divides rounding down, so that times before 1970 still fall in
// their own day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// untilReset is how long from now until the period of kind that holds
// now ends: 00:00 UTC of the next day or of the next month's first day.
// The rate quota refills continuously; its wait is computed by the bucket.
func untilReset(kind QuotaKind, now time.Time) time.Duration {
	g := Day
	if kind == QuotaMessagesPerMonth {
		g = Month
	}
	return g.Next(g.Start(now)).Sub(now)
}
