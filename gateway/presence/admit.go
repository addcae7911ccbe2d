package presence

import (
	"context"
	"errors"
)

// ErrFull is returned by Roster.Join when the channel already has its
// limit of users.
var ErrFull = errors.New("presence channel is full")

// userCap limits a join to a roster's count of users.
type userCap struct {
	r     *Roster
	limit int
}

// admission is a join this roster admitted whose member its state does
// not count yet: the write is in flight, or was applied while a snapshot
// loads (landed).
type admission struct {
	user   string
	landed bool
}

// Join joins socketID of this gateway to the roster's channel as
// Presence.Join does, but returns ErrFull when m.UserID is not on the
// channel and the channel already has limit users. Checking the count
// and reserving the place are one step under the roster's lock, and the
// place stays reserved until the write is in the roster's state, so
// concurrent Joins on this gateway never take the channel over limit.
// Users joined on other gateways count once their updates arrive here.
func (r *Roster) Join(ctx context.Context, socketID string, m Member, limit int) error {
	if r.p.stopped.Load() {
		return ErrStopped
	}
	suffix, err := connKey(r.p.cfg.GatewayID, socketID)
	if err != nil {
		return err
	}
	return r.p.join(ctx, r.prefix+"."+suffix, r.prefix, m, &userCap{r: r, limit: limit})
}

// admit reserves a place for connection key of user, or returns ErrFull.
// A user already on the channel, or already admitted on another
// connection, takes no new place.
func (r *Roster) admit(key, user string, limit int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st.users[user] == nil {
		n := len(r.st.users)
		pending := make(map[string]bool, len(r.admitted))
		for _, a := range r.admitted {
			if r.st.users[a.user] == nil {
				pending[a.user] = true
			}
		}
		if !pending[user] && n+len(pending) >= limit {
			return ErrFull
		}
	}
	if r.admitted == nil {
		r.admitted = make(map[string]*admission)
	}
	r.admitted[key] = &admission{user: user}
	return nil
}

// unadmit drops the admission of a join that failed.
func (r *Roster) unadmit(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.admitted, key)
}

// settleLocked ends the admission of a join whose write ev is being
// applied: at once, or, while a snapshot loads, once load has merged the
// buffer. r.mu is held.
func (r *Roster) settleLocked(ev event) {
	a := r.admitted[ev.key]
	if a == nil {
		return
	}
	if r.loading {
		a.landed = true
		return
	}
	delete(r.admitted, ev.key)
}

// settleLandedLocked ends the admissions whose writes a load just merged.
// r.mu is held.
func (r *Roster) settleLandedLocked() {
	for k, a := range r.admitted {
		if a.landed {
			delete(r.admitted, k)
		}
	}
}
