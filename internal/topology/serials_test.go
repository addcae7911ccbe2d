package topology_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/topology"
)

func TestSerials(t *testing.T) {
	tests := []struct {
		name     string
		acked    []uint64
		after    uint64
		received []uint64
		want     string // "" for no problem, else a fragment of the error
	}{
		{name: "all, in order", acked: []uint64{3, 7, 9}, received: []uint64{3, 7, 9}},
		{name: "not consecutive is fine", acked: []uint64{10, 20}, received: []uint64{10, 20}},
		{name: "a gap", acked: []uint64{3, 7, 9}, received: []uint64{3, 9}, want: "1 acknowledged serials missing, first [7]"},
		{name: "a duplicate", acked: []uint64{3, 7}, received: []uint64{3, 7, 7}, want: "serial 7 after 7"},
		{name: "out of order", acked: []uint64{3, 7}, received: []uint64{7, 3}, want: "serial 3 after 7"},
		{name: "before the start is not expected", acked: []uint64{3, 7, 9}, after: 3, received: []uint64{7, 9}},
		{name: "unacknowledged extra is fine", acked: []uint64{3}, received: []uint64{3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := topology.NewSerials()
			s.Subscribed("sub", "ch", tt.after)
			for _, n := range tt.acked {
				s.Acked("ch", n)
			}
			for _, n := range tt.received {
				s.Received("sub", "ch", n)
			}
			err := s.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Check = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSerialsMissingAndLast(t *testing.T) {
	s := topology.NewSerials()
	s.Subscribed("a", "ch", 0)
	s.Subscribed("b", "ch", 0)
	s.Acked("ch", 5)
	s.Acked("ch", 8)
	s.Received("a", "ch", 5)
	if got := s.Missing(); got != 3 {
		t.Fatalf("Missing = %d, want 3", got)
	}
	if got := s.LastAcked("ch"); got != 8 {
		t.Fatalf("LastAcked = %d, want 8", got)
	}
	if got := s.Last("a", "ch"); got != 5 {
		t.Fatalf("Last = %d, want 5", got)
	}
}
