package ws

import (
	"testing"
	"time"
)

// TestWriteDeadlineReuse: a write reuses the deadline of an earlier one
// only while it leaves the write between nine tenths of its timeout and
// all of it; a pong's shorter timeout is never stretched to a data
// write's, and a data write never gets a pong's.
func TestWriteDeadlineReuse(t *testing.T) {
	const long, short = 10 * time.Second, time.Second
	cases := []struct {
		name string
		// left is how long the deadline last set still runs (0: none set).
		left    time.Duration
		timeout time.Duration
		reuse   bool
	}{
		{"first write", 0, long, false},
		{"fresh deadline", long - time.Millisecond, long, true},
		{"nine tenths left", long - long/deadlineReuse + time.Millisecond, long, true},
		{"less than nine tenths left", long - long/deadlineReuse - time.Millisecond, long, false},
		{"expired", -time.Second, long, false},
		{"pong after a data write", long - time.Millisecond, short, false},
		{"data write after a pong", short - time.Millisecond, long, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newDetachedConn(t)
			if tc.left != 0 {
				_ = c.setWriteDeadline(time.Now().Add(tc.left))
			}
			before := c.writeDeadline()
			start := time.Now()
			if err := c.setWriteDeadlineLocked(tc.timeout); err != nil {
				t.Fatal(err)
			}
			if tc.reuse {
				if c.writeDeadline() != before {
					t.Fatal("deadline set again; want the earlier one reused")
				}
				return
			}
			got := time.Unix(0, c.writeDeadline()).Sub(start)
			if got < tc.timeout || got > tc.timeout+time.Second {
				t.Fatalf("deadline %v after the write started; want %v", got, tc.timeout)
			}
		})
	}
}
