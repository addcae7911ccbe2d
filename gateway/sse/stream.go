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

// First is what a stream writes before anything queued: a replay or the
// cached events, of which Events channel events take EventBytes.
type First struct {
	Bytes      []byte
	Events     int
	EventBytes int
}

// Written is what one write put on the wire: Bytes in all, of which
// Events channel events took EventBytes (heartbeats and the resume result
// are not channel events).
type Written struct {
	Bytes      int
	Events     int
	EventBytes int
}

// Run writes the queued events to w until ctx is done, End is called, or
// a write fails; first is written before anything queued (a replay). A
// comment line goes out every heartbeat while the stream is idle.
// written is told what each write that succeeded carried. What is queued
// at once goes out in one write.
func (s *Stream) Run(ctx context.Context, w Writer, first First, heartbeat time.Duration, written func(Written)) {
	if len(first.Bytes) > 0 {
		if _, err := w.Write(first.Bytes); err != nil {
			return
		}
		w.Flush()
		written(Written{Bytes: len(first.Bytes), Events: first.Events, EventBytes: first.EventBytes})
	}
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	var buf []byte
	for {
		buf = buf[:0]
		events := 0
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
			events++
			// Drain what else is queued into the same write.
			for more := true; more; {
				select {
				case e := <-s.events:
					buf = AppendEvent(buf, &e, now)
					events++
				default:
					more = false
				}
			}
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		w.Flush()
		wr := Written{Bytes: len(buf), Events: events}
		if events > 0 {
			wr.EventBytes = len(buf)
		}
		written(wr)
	}
}
