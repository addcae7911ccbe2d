package realtime

import "sync"

// State is the connection's state.
type State int

const (
	// StateConnecting: the first connection is being opened.
	StateConnecting State = iota
	// StateConnected: the server sent connection_established.
	StateConnected
	// StateDisconnected: the connection was lost; a reconnection waits
	// for its backoff (StateChange.Err says why).
	StateDisconnected
	// StateReconnecting: a new connection is being opened.
	StateReconnecting
	// StateClosed: for good, after Close (Err nil) or a close code that
	// forbids reconnecting (Err a *CloseError).
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// StateChange is one transition, as States delivers it.
type StateChange struct {
	Previous, Current State
	// Err is why the connection was lost or closed, when there was a reason.
	Err error
	// Code is the close code that caused it, or 0.
	Code int
}

// stateFeed delivers state changes without ever blocking the client: when
// the buffer is full the oldest change is dropped, so a reader that comes
// back late sees the most recent transitions, the last one always.
type stateFeed struct {
	mu      sync.Mutex
	cur     State
	ch      chan StateChange
	dropped int
	closed  bool
}

func newStateFeed(size int) *stateFeed {
	return &stateFeed{ch: make(chan StateChange, size)}
}

// set records a transition; it returns false when nothing changed.
func (f *stateFeed) set(s State, err error, code int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || (f.cur == s && err == nil) {
		return false
	}
	sc := StateChange{Previous: f.cur, Current: s, Err: err, Code: code}
	f.cur = s
	for {
		select {
		case f.ch <- sc:
			if s == StateClosed {
				f.closed = true
				close(f.ch)
			}
			return true
		default:
		}
		select {
		case <-f.ch:
			f.dropped++
		default:
		}
	}
}

func (f *stateFeed) current() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}
