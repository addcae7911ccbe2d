package stream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestPublishSerialsIncrease(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	var last uint64
	for i := range 20 {
		serial := publish(t, p, msg(fmt.Sprintf("c%d", i%3), "ev", "x"))
		if serial <= last {
			t.Fatalf("serial %d after %d", serial, last)
		}
		last = serial
	}
}

func TestPublishDuplicate(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	live := make(chan *nats.Msg, 16)
	if _, err := e.liveNC.ChanSubscribe(channels.LiveSubject(testApp, "c"), live); err != nil {
		t.Fatal(err)
	}
	if err := e.liveNC.Flush(); err != nil {
		t.Fatal(err)
	}

	m := msg("c", "ev", "first")
	m.MsgID = "req-1"
	first := publish(t, p, m)
	m.Data = []byte("second")
	serial, dup, err := p.Publish(t.Context(), m)
	if err != nil || !dup || serial != first {
		t.Fatalf("second publish = %d, %v, %v; want %d, true, nil", serial, dup, err, first)
	}
	other := publish(t, p, msg("c", "ev", "other"))

	// The duplicate is neither stored nor republished: the live subject
	// carries the first message, then the other one.
	for _, want := range []uint64{first, other} {
		select {
		case got := <-live:
			d, err := stream.DecodeLive(got)
			if err != nil || d.Serial != want {
				t.Fatalf("live got %d (%v), want %d", d.Serial, err, want)
			}
			if d.Serial == first && string(d.Data) != "first" {
				t.Fatalf("stored data %q", d.Data)
			}
		case <-time.After(testTimeout):
			t.Fatalf("no live message %d", want)
		}
	}
}

func TestPublishBatch(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{})

	const n = 100
	msgs := make([]stream.Message, n)
	for i := range msgs {
		msgs[i] = msg(fmt.Sprintf("chan-%d", i), "ev", fmt.Sprintf(`{"i":%d}`, i))
		msgs[i].MsgID = fmt.Sprintf("batch-%d", i)
	}
	results, err := p.PublishBatch(t.Context(), msgs)
	if err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}
	seen := map[uint64]bool{}
	for i, res := range results {
		if res.Err != nil || res.Duplicate || res.Serial == 0 || seen[res.Serial] {
			t.Fatalf("result %d = %+v", i, res)
		}
		seen[res.Serial] = true
		d, ok, err := r.Last(t.Context(), testApp, msgs[i].Channel)
		if err != nil || !ok || d.Serial != res.Serial || string(d.Data) != string(msgs[i].Data) {
			t.Fatalf("Last(%s) = %+v, %v, %v; want serial %d", msgs[i].Channel, d, ok, err, res.Serial)
		}
	}

	// The same batch again is all duplicates, with the original serials.
	again, err := p.PublishBatch(t.Context(), msgs)
	if err != nil {
		t.Fatalf("PublishBatch again: %v", err)
	}
	for i, res := range again {
		if res.Err != nil || !res.Duplicate || res.Serial != results[i].Serial {
			t.Fatalf("again %d = %+v, want duplicate of %d", i, res, results[i].Serial)
		}
	}

	// An invalid message refuses the whole batch.
	bad := append([]stream.Message{msg("ok", "ev", "x")}, stream.Message{AppID: testApp, Channel: "c", Source: stream.SourceAPI})
	if _, err := p.PublishBatch(t.Context(), bad); !errors.Is(err, channels.ErrBadRequest) {
		t.Fatalf("invalid batch: %v", err)
	}
}

func TestPublishInvalid(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	valid := msg("c", "ev", "x")
	tests := []struct {
		name   string
		modify func(*stream.Message)
	}{
		{"bad app id", func(m *stream.Message) { m.AppID = "a.b" }},
		{"no channel", func(m *stream.Message) { m.Channel = "" }},
		{"no event", func(m *stream.Message) { m.Event = "" }},
		{"event with newline", func(m *stream.Message) { m.Event = "a\nb" }},
		{"event with trailing space", func(m *stream.Message) { m.Event = "ev " }},
		{"socket with leading tab", func(m *stream.Message) { m.ExcludeSocket = "\t1.2" }},
		{"user id with CR", func(m *stream.Message) { m.UserID = "u\r" }},
		{"no source", func(m *stream.Message) { m.Source = "" }},
		{"unknown source", func(m *stream.Message) { m.Source = "webhook" }},
		{"msg id with space", func(m *stream.Message) { m.MsgID = " id" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid
			tt.modify(&m)
			if _, _, err := p.Publish(t.Context(), m); !errors.Is(err, channels.ErrBadRequest) {
				t.Fatalf("err = %v, want bad request", err)
			}
		})
	}
}

func TestPublishTooLarge(t *testing.T) {
	s := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, s)
	js := testinfra.JetStream(t, nc)
	ensure(t, js, stream.StreamConfig{MaxMsgSize: 1024})
	p := newPublisher(t, js, 0)
	m := msg("c", "ev", string(make([]byte, 2048)))
	_, _, err := p.Publish(t.Context(), m)
	if !errors.Is(err, stream.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, d := channels.DispositionOf(err); d.HTTPStatus != 413 {
		t.Errorf("HTTP status %d", d.HTTPStatus)
	}
}

func TestPublishUnavailable(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("no stream", func(t *testing.T) {
		s := testinfra.NATS(t)
		nc := testinfra.NATSConn(t, s)
		p := newPublisher(t, testinfra.JetStream(t, nc), timeout)
		start := time.Now()
		_, _, err := p.Publish(t.Context(), msg("c", "ev", "x"))
		assertUnavailable(t, err)
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("took %s with timeout %s", took, timeout)
		}
		res, err := p.PublishBatch(t.Context(), []stream.Message{msg("a", "ev", "x"), msg("b", "ev", "y")})
		assertUnavailable(t, err)
		for i, r := range res {
			assertUnavailable(t, r.Err)
			if r.Serial != 0 {
				t.Errorf("result %d serial %d", i, r.Serial)
			}
		}
	})
	t.Run("server down", func(t *testing.T) {
		s := testinfra.NATS(t)
		nc := testinfra.NATSConn(t, s)
		js := testinfra.JetStream(t, nc)
		ensure(t, js, stream.StreamConfig{})
		p := newPublisher(t, js, timeout)
		publish(t, p, msg("c", "ev", "x"))
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		_, _, err := p.Publish(t.Context(), msg("c", "ev", "y"))
		assertUnavailable(t, err)
	})
}

func assertUnavailable(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, stream.ErrUnavailable) {
		tb.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, d := channels.DispositionOf(err); d.HTTPStatus != 503 {
		tb.Fatalf("HTTP status %d for %v", d.HTTPStatus, err)
	}
}

// TestPublishStoreFull: once JetStream's file store is over its cap,
// Publish and PublishBatch fail at once (no retries until the timeout)
// with ErrStoreFull, a 503 whose message says so; nothing refused is
// stored.
func TestPublishStoreFull(t *testing.T) {
	const storeCap = 256 << 10
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	s, err := natsembed.Start(ctx, natsembed.Config{StoreDir: t.TempDir(), Port: natsembed.PortRandom, MaxStore: storeCap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	js := testinfra.JetStream(t, testinfra.NATSConn(t, s))
	ensure(t, js, stream.StreamConfig{})
	p := newPublisher(t, js, testTimeout)
	payload := string(make([]byte, 16<<10))
	var refused error
	for i := 0; refused == nil; i++ {
		if i > 2*storeCap/len(payload) {
			t.Fatalf("%d publishes of %d bytes accepted with a %d-byte store", i, len(payload), storeCap)
		}
		_, _, refused = p.Publish(t.Context(), msg("c", "ev", payload))
	}
	start := time.Now()
	_, _, err = p.Publish(t.Context(), msg("c", "ev", payload))
	if took := time.Since(start); took > testTimeout/2 {
		t.Errorf("refusal took %s: retried as an outage", took)
	}
	res, batchErr := p.PublishBatch(t.Context(), []stream.Message{msg("a", "ev", payload)})
	for _, err := range []error{refused, err, batchErr, res[0].Err} {
		if !errors.Is(err, stream.ErrStoreFull) {
			t.Fatalf("err = %v, want ErrStoreFull", err)
		}
		var ce *channels.Error
		if !errors.As(err, &ce) || ce.Message != stream.ErrStoreFull.Message {
			t.Errorf("first channels.Error of %v = %v, want the store-full message", err, ce)
		}
		if _, d := channels.DispositionOf(err); d.HTTPStatus != 503 {
			t.Errorf("HTTP status %d, want 503", d.HTTPStatus)
		}
	}
	info, err := js.Stream(t.Context(), stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	before := info.CachedInfo().State.Msgs
	_, _, _ = p.Publish(t.Context(), msg("c", "ev", payload))
	info, err = js.Stream(t.Context(), stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	if after := info.CachedInfo().State.Msgs; after != before {
		t.Errorf("a refused publish was stored: %d messages, then %d", before, after)
	}
}
