package sse

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Stream is one client's stream: a bounded queue of events that its
// request's goroutine (Run) writes, and the way to end it.
type Stream struct {
	events chan Event
	done   chan struct{}
	ending sync.Once
	// final is written before the stream ends on a fatal error (token
	// expired, app disabled…), so the client knows why.
	final atomic.Pointer[[]byte]
}

// NewStream returns a stream that queues up to queue events.
func NewStream(queue int) *Stream {
	return &Stream{events: make(chan Event, queue), done: make(chan struct{})}
}

// Offer queues e without blocking; false means the queue is full: the
// client is a slow consumer (the caller then ends the stream).
func (s *Stream) Offer(e Event) bool {
	select {
	case s.events <- e:
		return true
	default:
		return false
	}
}

// Finish sets the event that ends the stream (see ErrorEvent). The first
// one set wins; the caller then calls End.
func (s *Stream) Finish(final []byte) { s.final.CompareAndSwap(nil, &final) }

// Final returns the event set by Finish, nil if none.
func (s *Stream) Final() []byte {
	if f := s.final.Load(); f != nil {
		return *f
	}
	return nil
}

// End stops the stream (app change, terminate, shutdown, slow consumer).
// It may be called more than once, from any goroutine.
func (s *Stream) End() { s.ending.Do(func() { close(s.done) }) }

// Done is closed once End was called.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Events is the queue, for tests that read what was offered.
func (s *Stream) Events() <-chan Event { return s.events }

// Writer is where Run writes: an HTTP response and its flush.
type Writer interface {
	io.Writer
	Flush()
}

// Run writes the queued events to w until ctx is done, End is called, or
// a write fails; first is written before anything queued (a replay). A
// comment line goes out every heartbeat while the stream is idle.
// written is told the bytes of each write. What is queued at once goes
// out in one write.
func (s *Stream) Run(ctx context.Context, w Writer, first []byte, heartbeat time.Duration, written func(int)) {
	if len(first) > 0 {
		if _, err := w.Write(first); err != nil {
			return
		}
		w.Flush()
	}
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	var buf []byte
	for {
		buf = buf[:0]
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			if f := s.Final(); f != nil {
				_, _ = w.Write(f)
				w.Flush()
			}
			return
		case <-t.C:
			buf = append(buf, Heartbeat...)
		case e := <-s.events:
			now := time.Now().UnixMilli()
			buf = AppendEvent(buf, &e, now)
			// Drain what else is queued into the same write.
			for more := true; more; {
				select {
				case e := <-s.events:
					buf = AppendEvent(buf, &e, now)
				default:
					more = false
				}
			}
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		w.Flush()
		written(len(buf))
	}
}
