package sse_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/sse"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		e    sse.Event
		want string
	}{
		{"message", sse.Event{Name: "price", Payload: []byte(`{"event":"price","data":"1"}`), Serial: 7, AtMs: 1700},
			"id: 7-1700\nevent: price\ndata: {\"event\":\"price\",\"data\":\"1\"}\n\n"},
		{"no publish time: now", sse.Event{Name: "e", Payload: []byte(`{}`), Serial: 1},
			"id: 1-42\nevent: e\ndata: {}\n\n"},
		{"line breaks in the name", sse.Event{Name: "a\nb\rc", Payload: []byte(`{}`), Serial: 2, AtMs: 5},
			"id: 2-5\nevent: a b c\ndata: {}\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(sse.AppendEvent(nil, &tt.e, 42)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendEventDoesNotAllocate(t *testing.T) {
	e := sse.Event{Name: "price", Payload: []byte(`{"event":"price","data":"1"}`), Serial: 123456, AtMs: 1700000000000}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = sse.AppendEvent(buf[:0], &e, 0) }); n != 0 {
		t.Fatalf("%v allocations per event", n)
	}
}

func TestErrorEvent(t *testing.T) {
	got := string(sse.ErrorEvent(channels.PusherUnauthorized, "token\nexpired"))
	want := "event: pusher:error\ndata: {\"code\":4009,\"message\":\"token\\nexpired\"}\n\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCursor(t *testing.T) {
	c := sse.Cursor{Serial: 18446744073709551615, AtMs: 1700000000000}
	got, err := sse.ParseCursor(c.String())
	if err != nil || got != c {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"", "7", "0-1", "x-1", "7-x", "7-1-2", "-7-1", "7 -1"} {
		if _, err := sse.ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}

func TestRequestCursor(t *testing.T) {
	tests := []struct {
		name, header, query string
		want                sse.Cursor
		ok, err             bool
	}{
		{name: "none"},
		{name: "header", header: "5-10", want: sse.Cursor{Serial: 5, AtMs: 10}, ok: true},
		{name: "query", query: "6-11", want: sse.Cursor{Serial: 6, AtMs: 11}, ok: true},
		{name: "header wins", header: "5-10", query: "6-11", want: sse.Cursor{Serial: 5, AtMs: 10}, ok: true},
		{name: "malformed", header: "nope", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/sse?last_event_id="+tt.query, nil)
			if tt.header != "" {
				r.Header.Set("Last-Event-ID", tt.header)
			}
			got, ok, err := sse.RequestCursor(r)
			if got != tt.want || ok != tt.ok || (err != nil) != tt.err {
				t.Fatalf("got %v %v %v", got, ok, err)
			}
		})
	}
}

// recorder is a Writer that keeps what a stream wrote.
type recorder struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	flushes int
	wrote   chan struct{}
}

func newRecorder() *recorder { return &recorder{wrote: make(chan struct{}, 100)} }

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recorder) Flush() {
	r.mu.Lock()
	r.flushes++
	r.mu.Unlock()
	r.wrote <- struct{}{}
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

const runWait = 5 * time.Second

func (r *recorder) waitFlush(t *testing.T) {
	t.Helper()
	select {
	case <-r.wrote:
	case <-time.After(runWait):
		t.Fatalf("no write; so far %q", r.String())
	}
}

// TestRun: the first bytes, then queued events, then on End the final
// event, and Run returns.
func TestRun(t *testing.T) {
	st := sse.NewStream(4)
	w := newRecorder()
	var written sse.Written
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := sse.First{Bytes: []byte("replay\n\n"), Events: 1, EventBytes: 3}
		st.Run(context.Background(), w, first, time.Hour, func(wr sse.Written) {
			written.Bytes += wr.Bytes
			written.Events += wr.Events
			written.EventBytes += wr.EventBytes
		})
	}()
	w.waitFlush(t)
	if !st.Offer(sse.Event{Name: "a", Payload: []byte(`{}`), Serial: 1, AtMs: 2}) {
		t.Fatal("offer refused")
	}
	w.waitFlush(t)
	st.Finish(sse.ErrorEvent(channels.PusherAppDisabled, "application disabled"))
	st.Finish(sse.ErrorEvent(channels.PusherUnauthorized, "second"))
	st.End()
	st.End()
	select {
	case <-done:
	case <-time.After(runWait):
		t.Fatal("Run did not return after End")
	}
	want := "replay\n\nid: 1-2\nevent: a\ndata: {}\n\n" +
		"event: pusher:error\ndata: {\"code\":4003,\"message\":\"application disabled\"}\n\n"
	if got := w.String(); got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	// The final error event is no channel event, and counted nowhere.
	event := len("id: 1-2\nevent: a\ndata: {}\n\n")
	if want := (sse.Written{Bytes: len("replay\n\n") + event, Events: 2, EventBytes: 3 + event}); written != want {
		t.Fatalf("written %+v; want %+v", written, want)
	}
}

// TestRunHeartbeat: an idle stream writes the heartbeat comment once per
// interval and nothing before it is due; a cancelled context ends it.
func TestRunHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const heartbeat = 30 * time.Second
		st := sse.NewStream(1)
		w := newRecorder()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			st.Run(ctx, w, sse.First{}, heartbeat, func(sse.Written) {})
		}()
		time.Sleep(heartbeat - time.Nanosecond)
		synctest.Wait()
		if got := w.String(); got != "" {
			t.Fatalf("wrote %q before a heartbeat was due", got)
		}
		time.Sleep(time.Nanosecond + heartbeat)
		synctest.Wait()
		if got, want := w.String(), sse.Heartbeat+sse.Heartbeat; got != want {
			t.Fatalf("after two intervals wrote %q, want %q", got, want)
		}
		cancel()
		<-done
	})
}

// TestOfferFull: a full queue refuses, so that the caller ends a slow
// consumer's stream instead of blocking a fan-out.
func TestOfferFull(t *testing.T) {
	st := sse.NewStream(1)
	if !st.Offer(sse.Event{Serial: 1}) || st.Offer(sse.Event{Serial: 2}) {
		t.Fatal("a queue of 1 took 0 or 2 events")
	}
}

// FuzzParseCursor: Last-Event-ID comes from the client. ParseCursor
// never panics, and what it accepts is written back identically.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"1-0", "18446744073709551615-1700000000000", "0-0", "-", "1--1", "+1-+2", "01-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := sse.ParseCursor(s)
		if err != nil {
			return
		}
		if c.Serial == 0 {
			t.Fatalf("accepted serial 0 from %q", s)
		}
		back, err := sse.ParseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%q: %v does not round-trip: %v %v", s, c, back, err)
		}
	})
}
