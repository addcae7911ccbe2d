package presence

import (
	"errors"
	"testing"
)

// TestAdmissionWhileLoading: a join applied while a snapshot loads is
// only buffered, so its admission keeps counting until the load has
// merged it; otherwise a new user could take the same place meanwhile.
func TestAdmissionWhileLoading(t *testing.T) {
	r := &Roster{st: newState(), wake: make(chan struct{}, 1), loading: true}
	if err := r.admit("g.1_1", "u1", 1); err != nil {
		t.Fatalf("admit u1: %v", err)
	}
	r.applyJoin(put("g.1_1", 5, "u1"))
	if len(r.buf) != 1 || len(r.st.users) != 0 {
		t.Fatalf("join not buffered: buf %d, users %d", len(r.buf), len(r.st.users))
	}
	if err := r.admit("g.2_2", "u2", 1); !errors.Is(err, ErrFull) {
		t.Fatalf("admit u2 while u1's join is buffered: %v, want ErrFull", err)
	}
	if err := r.admit("g.3_3", "u1", 1); err != nil {
		t.Fatalf("second connection of the admitted user: %v", err)
	}
	r.unadmit("g.3_3")

	// The load merges the buffer (as load does) and ends the admission.
	r.mu.Lock()
	for _, ev := range r.buf {
		r.st.apply(ev, ev.at, nil)
	}
	r.loading, r.buf = false, nil
	r.settleLandedLocked()
	r.mu.Unlock()
	if len(r.admitted) != 0 {
		t.Fatalf("admissions left after the load: %v", r.admitted)
	}
	if err := r.admit("g.2_2", "u2", 1); !errors.Is(err, ErrFull) {
		t.Fatalf("admit u2 after the load: %v, want ErrFull", err)
	}
}
