package billing

import "time"

// Period is the usage of one period of a granularity: one app's, or an
// account's summed over its apps.
type Period struct {
	// Start is the period's start, in UTC.
	Start time.Time
	Counters
}

// Total folds periods into one Counters: counts are summed and the peak
// is the greatest of the periods' peaks.
func Total(periods []Period) Counters {
	var t Counters
	for _, p := range periods {
		t.Add(p.Counters)
	}
	return t
}
