package presence

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// tombstoneTTL is how long a roster remembers a deleted key, to drop
// older writes of it that arrive late: the echo of a renewal racing a
// local Leave, or buffered updates older than a snapshot's marker.
const tombstoneTTL = time.Minute

// state is a roster's view of one channel: its connections, keyed by
// "<gateway>.<connTok>", and the users they derive. Each key's last
// applied stream sequence orders updates, so applying the same update
// twice, or an older one after a newer, changes nothing.
type state struct {
	conns map[string]*connState
	users map[string]*userState
	tombs map[string]tombstone
}

type connState struct {
	user string
	seq  uint64
	seen time.Time // when the key was last written (renewals included)
}

type userState struct {
	conns int
	info  json.RawMessage // from the connection that added the user
}

type tombstone struct {
	seq uint64
	at  time.Time // local time it was recorded, for expiry
}

// change is a user's arrival or departure, for the Handler.
type change struct {
	added bool
	user  string
	info  json.RawMessage
	by    ConnRef
}

func newState() *state {
	return &state{conns: make(map[string]*connState), users: make(map[string]*userState), tombs: make(map[string]tombstone)}
}

// apply applies ev and appends the user changes it causes to out.
func (s *state) apply(ev event, now time.Time, out []change) []change {
	cur := s.conns[ev.key]
	if cur != nil && ev.seq <= cur.seq {
		return out
	}
	if t, ok := s.tombs[ev.key]; ok && ev.seq <= t.seq {
		return out
	}
	if ev.del {
		s.tombs[ev.key] = tombstone{seq: ev.seq, at: now}
		if cur != nil {
			out = s.removeConn(ev.key, cur, out)
		}
		return out
	}
	delete(s.tombs, ev.key)
	if cur != nil {
		if cur.user == ev.member.UserID {
			cur.seq, cur.seen = ev.seq, ev.at
			return out
		}
		out = s.removeConn(ev.key, cur, out)
	}
	ref, ok := parseConnKey(ev.key)
	if !ok {
		return out
	}
	s.conns[ev.key] = &connState{user: ev.member.UserID, seq: ev.seq, seen: ev.at}
	u := s.users[ev.member.UserID]
	if u == nil {
		u = &userState{info: ev.member.UserInfo}
		s.users[ev.member.UserID] = u
		out = append(out, change{added: true, user: ev.member.UserID, info: u.info, by: ref})
	}
	u.conns++
	return out
}

func (s *state) removeConn(key string, c *connState, out []change) []change {
	delete(s.conns, key)
	u := s.users[c.user]
	if u == nil {
		return out
	}
	if u.conns--; u.conns <= 0 {
		delete(s.users, c.user)
		out = append(out, change{user: c.user})
	}
	return out
}

// sweep removes connections not written for longer than expiry (their
// delete was lost: republishing is at-most-once) and forgets old
// tombstones.
func (s *state) sweep(now time.Time, expiry time.Duration, out []change) []change {
	for k, c := range s.conns {
		if now.Sub(c.seen) > expiry {
			s.tombs[k] = tombstone{seq: c.seq, at: now}
			out = s.removeConn(k, c, out)
		}
	}
	for k, t := range s.tombs {
		if now.Sub(t.at) > tombstoneTTL {
			delete(s.tombs, k)
		}
	}
	return out
}

// diff appends the changes that turn old's users into s's: departures
// first, then arrivals, each in user id order.
func (s *state) diff(old *state, out []change) []change {
	for _, u := range sortedKeys(old.users) {
		if s.users[u] == nil {
			out = append(out, change{user: u})
		}
	}
	var added []string
	for u := range s.users {
		if old.users[u] == nil {
			added = append(added, u)
		}
	}
	if len(added) == 0 {
		return out
	}
	slices.Sort(added)
	by := make(map[string]ConnRef, len(added))
	for k, c := range s.conns {
		if _, seen := by[c.user]; !seen && old.users[c.user] == nil {
			by[c.user], _ = parseConnKey(k)
		}
	}
	for _, u := range added {
		out = append(out, change{added: true, user: u, info: s.users[u].info, by: by[u]})
	}
	return out
}

func (s *state) members() []Member {
	out := make([]Member, 0, len(s.users))
	for id, u := range s.users {
		out = append(out, Member{UserID: id, UserInfo: u.info})
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
