package billing

// Deliveries flushed and not yet folded (docs/billing.md, "Running totals
// at the edge"): a flush takes an app's delivery counters to zero as soon
// as it is queued, but the quota totals hold those deliveries only once
// the aggregator has folded the flush and put new totals. Until then the
// app meter keeps what each flush carried, by flush, so that the enforcer
// keeps counting it: the totals name, per flushing process, the last flush
// they include (quota.Entry.Flushes), and the records at or below it go.

// maxUnfolded bounds an app's records. The totals normally catch up within
// a flush or two; past the bound (no totals: an aggregator that is down,
// or an enforcer without totals) a new record joins the newest one of the
// same periods, which then goes only when the later flush is folded: it
// errs towards counting, never towards forgetting.
const maxUnfolded = 64

// flushTag names the flush a take's deltas go out in: its source (the
// process and its boot nonce), its sequence, and the periods of its
// minute. A zero tag (seq 0) records nothing.
type flushTag struct {
	source string
	seq    uint64
	p      periodKeys
}

// unfoldedCount is what one flush carried of an app's deliveries and
// presence events.
type unfoldedCount struct {
	source string
	seq    uint64
	p      periodKeys
	n      int64
}

// recordUnfoldedLocked keeps n deliveries and presence events that leave
// the counters in the flush tag names. a.foldMu must be held.
func (a *AppMeter) recordUnfoldedLocked(tag flushTag, n int64) {
	if tag.seq == 0 || n == 0 {
		return
	}
	if k := len(a.unfolded); k >= maxUnfolded {
		if last := &a.unfolded[k-1]; last.source == tag.source && last.p == tag.p {
			last.seq, last.n = tag.seq, last.n+n
			return
		}
	}
	a.unfolded = append(a.unfolded, unfoldedCount{source: tag.source, seq: tag.seq, p: tag.p, n: n})
}

// forgetUnfoldedLocked takes back n counted in the flush tag names, which
// was not made after all (its deltas go back into the counters).
// a.foldMu must be held.
func (a *AppMeter) forgetUnfoldedLocked(tag flushTag, n int64) {
	for i := range a.unfolded {
		u := &a.unfolded[i]
		if u.source != tag.source || u.seq != tag.seq {
			continue
		}
		// A merged record holds earlier flushes' counts too.
		if u.n -= n; u.n <= 0 {
			a.unfolded = append(a.unfolded[:i], a.unfolded[i+1:]...)
		}
		return
	}
}

// quotaUse is the app's messages this process counted that the totals
// do not hold: live are the deliveries and presence events not flushed
// yet, day and month those flushed in the day and month of p whose flush
// is above folded[source], the last flush of that source the totals hold
// (nil: none). Records the totals hold, and those of an earlier month,
// are dropped. The counters and the records are read under the lock a
// flush moves counts from one to the other with, so that a count is never
// in neither or in both.
func (a *AppMeter) quotaUse(folded map[string]uint64, p periodKeys) (live, day, month int64) {
	a.foldMu.Lock()
	defer a.foldMu.Unlock()
	live = a.Unflushed()
	kept := a.unfolded[:0]
	var (
		lastSource string
		lastMark   uint64
		known      bool
	)
	for _, u := range a.unfolded {
		if !known || u.source != lastSource {
			lastSource, lastMark, known = u.source, folded[u.source], true
		}
		if u.seq <= lastMark || u.p.month < p.month {
			continue
		}
		kept = append(kept, u)
		month += u.n
		if u.p.day == p.day {
			day += u.n
		}
	}
	clear(a.unfolded[len(kept):])
	a.unfolded = kept
	return live, day, month
}
