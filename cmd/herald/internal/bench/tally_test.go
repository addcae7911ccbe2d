package bench

import "testing"

func TestTally(t *testing.T) {
	var tl Tally
	for _, seq := range []uint64{3, 0, 200, 3, 64, 0, 63} {
		tl.Add(seq)
	}
	if tl.Unique != 5 || tl.Duplicates != 2 {
		t.Fatalf("unique %d duplicates %d, want 5 and 2", tl.Unique, tl.Duplicates)
	}
	tl.Reset()
	if tl.Add(200) || tl.Unique != 1 || tl.Duplicates != 0 {
		t.Fatalf("after Reset: %+v", tl)
	}
}

func TestAccount(t *testing.T) {
	cases := []struct {
		name      string
		published []int64
		received  []Received
		want      Accounting
	}{
		{
			name:      "all delivered",
			published: []int64{10, 5},
			received:  []Received{{0, 10, 0}, {0, 10, 0}, {1, 5, 0}},
			want:      Accounting{Expected: 25, Delivered: 25},
		},
		{
			name:      "loss and duplicates",
			published: []int64{10},
			received:  []Received{{0, 7, 2}, {0, 10, 1}},
			want:      Accounting{Expected: 20, Delivered: 17, Lost: 3, Duplicates: 3},
		},
		{
			// A surplus (a publish that failed for the publisher but was
			// stored) must not hide another subscriber's loss.
			name:      "surplus does not offset loss",
			published: []int64{10},
			received:  []Received{{0, 11, 0}, {0, 9, 0}},
			want:      Accounting{Expected: 20, Delivered: 20, Lost: 1, Unexpected: 1},
		},
		{
			name:      "disconnected subscriber",
			published: []int64{4, 4},
			received:  []Received{{0, 4, 0}, {1, 0, 0}},
			want:      Accounting{Expected: 8, Delivered: 4, Lost: 4},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Account(c.published, c.received); got != c.want {
				t.Fatalf("Account = %+v, want %+v", got, c.want)
			}
		})
	}
}
