package presence_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestRosterJoinLimit: many users joining one gateway's roster at once
// never take the channel over its limit; exactly the free places are
// taken, and users already on the channel (or admitted) join on further
// connections whatever the count.
func TestRosterJoinLimit(t *testing.T) {
	srv := testinfra.NATS(t)
	g := startGateway(t, srv, "gwA", nil)
	const (
		limit   = 3
		joiners = 24
		rounds  = 5
	)
	for round := range rounds {
		ch := fmt.Sprintf("presence-limit%d", round)
		r := g.open(t, ch, nil)
		if err := r.Join(t.Context(), "1.1", presence.Member{UserID: "first"}, limit); err != nil {
			t.Fatalf("first join: %v", err)
		}
		errs := make([]error, joiners)
		var wg sync.WaitGroup
		for i := range joiners {
			wg.Go(func() {
				// Two connections per user: one admitted user takes one place.
				m := presence.Member{UserID: fmt.Sprintf("u%d", i/2)}
				errs[i] = r.Join(t.Context(), fmt.Sprintf("2.%d", i), m, limit)
			})
		}
		wg.Wait()
		joined := make(map[string]bool)
		for i, err := range errs {
			switch {
			case err == nil:
				joined[fmt.Sprintf("u%d", i/2)] = true
			case !errors.Is(err, presence.ErrFull):
				t.Fatalf("join %d: %v", i, err)
			}
		}
		if len(joined) != limit-1 || r.UserCount() != limit {
			t.Fatalf("round %d: %d new users joined (%v), roster counts %d; want %d and %d",
				round, len(joined), joined, r.UserCount(), limit-1, limit)
		}
		// Full: a new user is refused, a present one joins again.
		if err := r.Join(t.Context(), "3.1", presence.Member{UserID: "late"}, limit); !errors.Is(err, presence.ErrFull) {
			t.Fatalf("late join: %v, want ErrFull", err)
		}
		if err := r.Join(t.Context(), "3.2", presence.Member{UserID: "first"}, limit); err != nil {
			t.Fatalf("second connection of a member: %v", err)
		}
		// A place freed is a place taken again.
		g.leave(t, ch, "1.1")
		g.leave(t, ch, "3.2")
		testinfra.WaitUntil(t, "the leaves reach the roster", func() bool { return r.UserCount() == limit-1 })
		if err := r.Join(t.Context(), "3.3", presence.Member{UserID: "late"}, limit); err != nil {
			t.Fatalf("join after a leave: %v", err)
		}
	}
}

// TestRosterJoinFailedFreesPlace: a join whose write fails gives its
// place back at once.
func TestRosterJoinFailedFreesPlace(t *testing.T) {
	srv := testinfra.NATS(t)
	g := startGateway(t, srv, "gwA", nil)
	r := g.open(t, "presence-failed", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Join(ctx, "1.1", presence.Member{UserID: "u1"}, 1); err == nil || errors.Is(err, presence.ErrFull) {
		t.Fatalf("join with a canceled context: %v, want a write error", err)
	}
	if err := r.Join(t.Context(), "1.2", presence.Member{UserID: "u2"}, 1); err != nil {
		t.Fatalf("join after a failed one: %v", err)
	}
}
