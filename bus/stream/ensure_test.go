package stream_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestEnsureIdempotentAndConcurrent(t *testing.T) {
	s := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, s)
	js := testinfra.JetStream(t, nc)

	// Several processes starting at once all succeed.
	const callers = 4
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			errs <- stream.Ensure(ctx, js, stream.StreamConfig{})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Ensure: %v", err)
		}
	}
	ensure(t, js, stream.StreamConfig{})

	info := streamInfo(t, js)
	cfg := info.Config
	if cfg.Name != channels.MessageStream || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "herald.msg.0.>" {
		t.Errorf("name/subjects = %s %v", cfg.Name, cfg.Subjects)
	}
	if cfg.Storage != jetstream.FileStorage || cfg.Retention != jetstream.LimitsPolicy || cfg.Discard != jetstream.DiscardOld {
		t.Errorf("storage/retention/discard = %v %v %v", cfg.Storage, cfg.Retention, cfg.Discard)
	}
	if !cfg.AllowDirect || cfg.Duplicates != stream.DefaultDuplicates || cfg.MaxAge != stream.DefaultMaxAge || cfg.MaxBytes != -1 {
		t.Errorf("direct/duplicates/maxage/maxbytes = %v %v %v %v", cfg.AllowDirect, cfg.Duplicates, cfg.MaxAge, cfg.MaxBytes)
	}
	if cfg.RePublish == nil || cfg.RePublish.Destination != "herald.live.>" {
		t.Errorf("republish = %+v", cfg.RePublish)
	}

	// A changed config is applied to the existing stream.
	ensure(t, js, stream.StreamConfig{MaxAge: time.Hour, Duplicates: time.Minute, MaxMsgSize: 1 << 16})
	cfg = streamInfo(t, js).Config
	if cfg.MaxAge != time.Hour || cfg.Duplicates != time.Minute || cfg.MaxMsgSize != 1<<16 {
		t.Errorf("after update: maxage/duplicates/maxmsgsize = %v %v %v", cfg.MaxAge, cfg.Duplicates, cfg.MaxMsgSize)
	}
	// A duplicate window longer than MaxAge is clamped, not refused.
	ensure(t, js, stream.StreamConfig{MaxAge: time.Second})
}

func TestStreamName(t *testing.T) {
	if got := stream.StreamName(0); got != "HERALD_MSG" {
		t.Errorf("StreamName(0) = %q", got)
	}
	if got := stream.StreamName(3); got != "HERALD_MSG_3" {
		t.Errorf("StreamName(3) = %q", got)
	}
}

func streamInfo(tb testing.TB, js jetstream.JetStream) *jetstream.StreamInfo {
	tb.Helper()
	st, err := js.Stream(tb.Context(), channels.MessageStream)
	if err != nil {
		tb.Fatalf("stream: %v", err)
	}
	info, err := st.Info(tb.Context())
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	return info
}

// TestRePublish checks the wire format gateways rely on, with a raw
// subscription to the live subject: the mapping of subjects, the headers,
// and the body byte for byte.
func TestRePublish(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	const channel = "presence-room.1@x,y;z"
	live := make(chan *nats.Msg, 16)
	sub, err := e.liveNC.ChanSubscribe(channels.LiveSubject(testApp, channel), live)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := e.liveNC.Flush(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		m    stream.Message
	}{
		{"json", stream.Message{Event: "my-event", Data: []byte(`{"a":"b"}`), Source: stream.SourceAPI}},
		{"non-utf8 and nul bytes", stream.Message{Event: "bin", Data: []byte{0xff, 0xfe, 0x00, '\r', '\n', 0x80}, Source: stream.SourceAPI}},
		{"empty body", stream.Message{Event: "empty", Data: nil, Source: stream.SourceAPI}},
		{"client event with user", stream.Message{Event: "client-typing", Data: []byte("x"), ExcludeSocket: "123.456", UserID: "user ü 1", Source: stream.SourceClient}},
	}
	var prev uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.AppID, m.Channel = testApp, channel
			serial := publish(t, p, m)

			var got *nats.Msg
			select {
			case got = <-live:
			case <-time.After(testTimeout):
				t.Fatal("no republished message")
			}
			if got.Subject != "herald.live."+testApp+"."+channels.SubjectToken(channel) {
				t.Errorf("subject = %q", got.Subject)
			}
			if !bytes.Equal(got.Data, m.Data) {
				t.Errorf("body = %q, want %q", got.Data, m.Data)
			}
			h := got.Header
			for k, want := range map[string]string{
				stream.HeaderEvent:   m.Event,
				stream.HeaderSource:  string(m.Source),
				stream.HeaderExclude: m.ExcludeSocket,
				stream.HeaderUser:    m.UserID,
				"Nats-Subject":       channels.MessageSubject(0, testApp, channel),
			} {
				if h.Get(k) != want {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
				}
			}
			if h.Get(stream.HeaderMsgID) == "" {
				t.Error("no generated Nats-Msg-Id")
			}

			d, err := stream.DecodeLive(got)
			if err != nil {
				t.Fatalf("DecodeLive: %v", err)
			}
			if d.AppID != testApp || d.Channel != channel || d.Event != m.Event || !bytes.Equal(d.Data, m.Data) ||
				d.ExcludeSocket != m.ExcludeSocket || d.UserID != m.UserID || d.Source != m.Source {
				t.Errorf("decoded %+v from %+v", d, m)
			}
			if d.Serial != serial || d.PrevSerial != prev {
				t.Errorf("serial/prev = %d/%d, want %d/%d", d.Serial, d.PrevSerial, serial, prev)
			}
			if time.Since(d.Time) > time.Minute || d.Time.After(time.Now().Add(time.Minute)) {
				t.Errorf("time = %v", d.Time)
			}
			prev = serial
		})
	}
}

func TestDecodeLiveMalformed(t *testing.T) {
	good := func() *nats.Msg {
		return &nats.Msg{
			Subject: channels.LiveSubject(testApp, "c"),
			Header: nats.Header{
				stream.HeaderEvent:   {"e"},
				"Nats-Sequence":      {"7"},
				"Nats-Last-Sequence": {"3"},
				"Nats-Time-Stamp":    {"2026-01-02T03:04:05.123456789Z"},
			},
		}
	}
	if d, err := stream.DecodeLive(good()); err != nil || d.Serial != 7 || d.PrevSerial != 3 || d.Channel != "c" {
		t.Fatalf("good message: %+v, %v", d, err)
	}
	tests := []struct {
		name   string
		modify func(*nats.Msg)
	}{
		{"not a live subject", func(m *nats.Msg) { m.Subject = "herald.msg.0.a.b" }},
		{"bad channel token", func(m *nats.Msg) { m.Subject = "herald.live.app1.!!" }},
		{"no event", func(m *nats.Msg) { delete(m.Header, stream.HeaderEvent) }},
		{"no sequence", func(m *nats.Msg) { delete(m.Header, "Nats-Sequence") }},
		{"zero sequence", func(m *nats.Msg) { m.Header.Set("Nats-Sequence", "0") }},
		{"bad last sequence", func(m *nats.Msg) { m.Header.Set("Nats-Last-Sequence", "x") }},
		{"bad time", func(m *nats.Msg) { m.Header.Set("Nats-Time-Stamp", "yesterday") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.modify(m)
			if _, err := stream.DecodeLive(m); err == nil {
				t.Error("no error")
			}
		})
	}
}
