package gateway

import (
	"strconv"
	"strings"
	"time"
)

// The connections of a user (docs/protocol.md, "Users and their
// connections"): a connection is user U's when it signed in as U
// (pusher:signin) or was opened with a token whose sub is U, on a
// WebSocket or an SSE stream. terminate_connections closes them all, so
// the connection table indexes them by user, next to its index by app:
// finding a user's connections costs one map lookup, not a scan of the
// app's.
//
// The index lives in the connection's shard (the app's) under the same
// lock as its entry by app, so that a connection is in the user index
// only while it is registered: register indexes the identities it
// already has, a sign-in after it indexes its own, and unregister takes
// them all out.

// userKey names a user within an app.
type userKey struct {
	app  string
	user string
}

// userIDsLocked returns the users c belongs to: its token's sub (fixed
// for the connection's life: a refresh keeps it) and its sign-in id; ""
// for none. c's shard lock is held; c.mu is taken after it.
func (c *conn) userIDsLocked() (sub, signin string) {
	if t := c.claims(); t != nil {
		sub = t.Subject
	}
	c.mu.Lock()
	if c.user != nil {
		signin = c.user.id
	}
	c.mu.Unlock()
	return sub, signin
}

// indexUserLocked adds c to user's connections; s is c's shard, locked.
func (s *connShard) indexUserLocked(c *conn, user string) {
	if user == "" {
		return
	}
	k := userKey{app: c.appID, user: user}
	m := s.byUser[k]
	if m == nil {
		m = map[*conn]struct{}{}
		s.byUser[k] = m
	}
	m[c] = struct{}{}
}

// unindexUserLocked takes c out of user's connections; s is c's shard,
// locked.
func (s *connShard) unindexUserLocked(c *conn, user string) {
	if user == "" {
		return
	}
	k := userKey{app: c.appID, user: user}
	if m := s.byUser[k]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.byUser, k)
		}
	}
}

// indexSignin adds a connection that just signed in as user to the
// user's connections, if it is registered; one registering later is
// indexed by register.
func (g *Gateway) indexSignin(c *conn, user string) {
	s := g.connShard(c.appID)
	s.mu.Lock()
	if _, registered := s.byApp[c.appID][c]; registered {
		s.indexUserLocked(c, user)
	}
	s.mu.Unlock()
}

// terminateMemory is how long a gateway remembers a terminate_connections
// for the connections that registered after it although they were made
// before it: a WebSocket is told it is connected before it is registered
// (handshake.go), a gap of microseconds that a loaded machine stretches to
// milliseconds. It is far longer than that gap ever lasts, and short
// enough that the memory stays small.
const terminateMemory = 10 * time.Second

// terminateMark is a remembered terminate: when it came, and the sequence
// number of the last socket id given out then (newSocketID), which orders
// it with the connections made before it.
type terminateMark struct {
	at  time.Time
	seq uint64
}

// terminatingConns returns a snapshot of the app's connections of user,
// to terminate, and remembers the terminate for those that register
// after it (register).
func (g *Gateway) terminatingConns(appID, user string) []*conn {
	now := time.Now()
	s := g.connShard(appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.terminated {
		if now.Sub(m.at) > terminateMemory {
			delete(s.terminated, k)
		}
	}
	s.terminated[userKey{app: appID, user: user}] = terminateMark{at: now, seq: g.nextSocket.Load()}
	return s.userConnsLocked(appID, user)
}

// terminatedSinceLocked reports whether user (of c's app) was terminated
// after c was made; s is c's shard, locked. The socket id's sequence
// number is read only when such a terminate is remembered: no field of
// c is spent on it.
func (s *connShard) terminatedSinceLocked(c *conn, user string) bool {
	if user == "" {
		return false
	}
	m, ok := s.terminated[userKey{app: c.appID, user: user}]
	if !ok || time.Since(m.at) > terminateMemory {
		return false
	}
	seq, ok := socketSeq(c.socketID)
	return ok && seq <= m.seq
}

// socketSeq is the sequence number of a socket id made by newSocketID.
func socketSeq(socketID string) (uint64, bool) {
	i := strings.LastIndexByte(socketID, '.')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(socketID[i+1:], 10, 64)
	return n, err == nil
}

// userConnsLocked returns a snapshot of the app's connections of user; s
// is the app's shard, locked.
func (s *connShard) userConnsLocked(appID, user string) []*conn {
	m := s.byUser[userKey{app: appID, user: user}]
	out := make([]*conn, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	return out
}
