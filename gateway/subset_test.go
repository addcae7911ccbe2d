package gateway

import (
	"fmt"
	"slices"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func testSub(name string) *subscription { return &subscription{ch: channels.Channel{Name: name}} }

func names(subs []*subscription) []string {
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		out = append(out, s.ch.Name)
	}
	slices.Sort(out)
	return out
}

// TestSubSet checks the set on both sides of the switch from a list to a
// map: what goes in comes out once, replaced by name, removed by name.
func TestSubSet(t *testing.T) {
	for _, n := range []int{0, 1, subSetListMax, subSetListMax + 1, 3 * subSetListMax} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var s subSet
			var want []string
			for i := range n {
				name := fmt.Sprintf("ch-%03d", i)
				s.put(testSub(name))
				want = append(want, name)
			}
			if s.len() != n {
				t.Fatalf("len %d, want %d", s.len(), n)
			}
			if got := names(s.all()); !slices.Equal(got, want) {
				t.Fatalf("all %v, want %v", got, want)
			}
			if s.get("absent") != nil || s.remove("absent") != nil {
				t.Fatal("an absent channel was found")
			}
			if n == 0 {
				return
			}
			// Replacing keeps one entry per channel.
			repl := testSub(want[n-1])
			s.put(repl)
			if s.len() != n || s.get(want[n-1]) != repl {
				t.Fatalf("replace: len %d, got %p want %p", s.len(), s.get(want[n-1]), repl)
			}
			if got := s.remove(want[0]); got == nil || got.ch.Name != want[0] || s.get(want[0]) != nil || s.len() != n-1 {
				t.Fatalf("remove %s: got %v, len %d", want[0], got, s.len())
			}
			dropped := s.removeIf(func(sub *subscription) bool { return sub.ch.Name >= want[n/2] })
			if s.len()+len(dropped) != n-1 {
				t.Fatalf("removeIf: %d left + %d dropped, want %d", s.len(), len(dropped), n-1)
			}
			for _, sub := range dropped {
				if s.get(sub.ch.Name) != nil {
					t.Fatalf("%s dropped but still held", sub.ch.Name)
				}
			}
			left := s.len()
			if got := s.take(); len(got) != left || s.len() != 0 || s.get(want[1%n]) != nil {
				t.Fatalf("take: %d taken of %d, %d left", len(got), left, s.len())
			}
		})
	}
}
