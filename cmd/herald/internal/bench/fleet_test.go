package bench

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestParseSources(t *testing.T) {
	a := netip.MustParseAddr
	cases := []struct {
		in   string
		want []netip.Addr
		ok   bool
	}{
		{"", nil, true},
		{"127.0.0.2", []netip.Addr{a("127.0.0.2")}, true},
		{"127.0.0.2-127.0.0.4, 127.0.0.9", []netip.Addr{a("127.0.0.2"), a("127.0.0.3"), a("127.0.0.4"), a("127.0.0.9")}, true},
		{"127.0.0.255-127.0.1.0", []netip.Addr{a("127.0.0.255"), a("127.0.1.0")}, true},
		{"127.0.0.4-127.0.0.2", nil, false},
		{"127.0.0.1-::1", nil, false},
		{"localhost", nil, false},
		{"10.0.0.0-10.255.255.255", nil, false},
	}
	for _, c := range cases {
		got, err := ParseSources(c.in)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("ParseSources(%q) = %v, %v; want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestSplitSources(t *testing.T) {
	srcs, _ := ParseSources("127.0.0.1-127.0.0.5")
	cases := []struct {
		srcs []netip.Addr
		k    int
		want []int // how many each worker gets
		// firsts are each worker's first address's last byte.
		firsts []byte
	}{
		{nil, 3, []int{0, 0, 0}, nil},
		{srcs, 2, []int{2, 3}, []byte{1, 3}},
		{srcs, 5, []int{1, 1, 1, 1, 1}, []byte{1, 2, 3, 4, 5}},
		{srcs[:2], 3, []int{1, 1, 1}, []byte{1, 2, 1}},
	}
	for _, c := range cases {
		got := splitSources(c.srcs, c.k)
		for w, share := range got {
			if len(share) != c.want[w] {
				t.Errorf("split %d over %d: worker %d has %v", len(c.srcs), c.k, w, share)
				continue
			}
			if len(share) > 0 && share[0].As4()[3] != c.firsts[w] {
				t.Errorf("split %d over %d: worker %d starts at %v", len(c.srcs), c.k, w, share[0])
			}
		}
	}
}

// TestHistogramMerge checks that merged snapshots give the quantiles of
// all the values together, not any mix of the parts' quantiles.
func TestHistogramMerge(t *testing.T) {
	var fast, slow, all, merged Histogram
	for i := range 99 {
		d := time.Duration(i+1) * time.Millisecond
		fast.Record(d)
		all.Record(d)
	}
	for range 1 {
		slow.Record(time.Second)
		all.Record(time.Second)
	}
	merged.Merge(fast.Snapshot())
	merged.Merge(slow.Snapshot())
	if got, want := merged.Summary(), all.Summary(); got != want {
		t.Fatalf("merged %+v, want %+v", got, want)
	}
	// The p99 of 100 values is the 99th: 99 ms, though one part's p99 is
	// a second.
	if p99 := merged.Quantile(0.99); p99 < 98*time.Millisecond || p99 > 100*time.Millisecond {
		t.Fatalf("p99 %s, want about 99ms", p99)
	}
	var empty Histogram
	empty.Merge(HistSnapshot{Buckets: [][2]uint64{{histBuckets + 5, 3}}})
	if empty.Count() != 0 {
		t.Fatalf("an out-of-range bucket counted: %d", empty.Count())
	}
}

func TestReceiptAdd(t *testing.T) {
	r := Receipt{Received: []Received{{Channel: 0, Unique: 3}}, Stray: 1, Open: 1, LastNs: 50}
	r.add(Receipt{Received: []Received{{Channel: 1, Unique: 2, Duplicates: 1}}, Stray: 2, Open: 1, LastNs: 40})
	if len(r.Received) != 2 || r.Stray != 3 || r.Open != 2 || r.LastNs != 50 {
		t.Fatalf("merged %+v", r)
	}
	// Per-subscriber accounting survives the merge: channel 1's
	// subscriber lost one though channel 0's got one extra.
	a := Account([]int64{2, 3}, r.Received)
	if want := (Accounting{Expected: 5, Delivered: 5, Lost: 1, Duplicates: 1, Unexpected: 1}); a != want {
		t.Fatalf("accounting %+v, want %+v", a, want)
	}
}
