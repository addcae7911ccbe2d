package bench

// Tally is what one subscriber received during a step: which sequence
// numbers (a bitset, so that order does not matter), how many distinct
// ones, and how many arrived more than once. It is not safe for concurrent
// use.
type Tally struct {
	seen       []uint64
	Unique     int64
	Duplicates int64
}

// Add records sequence number seq and reports whether it had been seen.
func (t *Tally) Add(seq uint64) (dup bool) {
	w := int(seq / 64)
	if w >= len(t.seen) {
		t.seen = append(t.seen, make([]uint64, w+1-len(t.seen))...)
	}
	bit := uint64(1) << (seq % 64)
	if t.seen[w]&bit != 0 {
		t.Duplicates++
		return true
	}
	t.seen[w] |= bit
	t.Unique++
	return false
}

// Reset empties the tally, keeping its memory.
func (t *Tally) Reset() {
	clear(t.seen)
	t.Unique, t.Duplicates = 0, 0
}

// Received is one subscriber's count for a step, for Account.
type Received struct {
	// Channel is the index of the subscriber's channel.
	Channel    int
	Unique     int64
	Duplicates int64
}

// Accounting is a step's delivery balance.
type Accounting struct {
	// Expected is the deliveries owed: for every subscriber, the publishes
	// accepted on its channel.
	Expected int64 `json:"expected"`
	// Delivered counts distinct events received.
	Delivered int64 `json:"delivered"`
	// Lost counts events owed but never received.
	Lost int64 `json:"lost"`
	// Duplicates counts events received more than once (each extra copy).
	Duplicates int64 `json:"duplicates"`
	// Unexpected counts distinct events beyond what was owed: a publish
	// the API stored although the publisher saw it fail.
	Unexpected int64 `json:"unexpected"`
}

// Account balances a step: published[c] is the number of publishes
// accepted on channel c, and received holds every subscriber's tally.
// Losses are counted per subscriber, so one subscriber's surplus never
// hides another's loss.
func Account(published []int64, received []Received) Accounting {
	var a Accounting
	for _, r := range received {
		owed := published[r.Channel]
		a.Expected += owed
		a.Delivered += r.Unique
		a.Duplicates += r.Duplicates
		if r.Unique < owed {
			a.Lost += owed - r.Unique
		} else {
			a.Unexpected += r.Unique - owed
		}
	}
	return a
}
