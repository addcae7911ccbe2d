package stream_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// BenchmarkDecodeLive decodes a republished message as nats.go hands it
// over (headers already parsed into the map).
func BenchmarkDecodeLive(b *testing.B) {
	m := &nats.Msg{
		Subject: channels.LiveSubject("app1", "presence-room-42"),
		Header: nats.Header{
			stream.HeaderMsgID:   {"T5XQ7ZKQ3VJ2Y4KHF3N2G6LQAE"},
			stream.HeaderEvent:   {"client-typing"},
			stream.HeaderSource:  {"client"},
			stream.HeaderExclude: {"123.456"},
			stream.HeaderUser:    {"user-1"},
			"Nats-Stream":        {"HERALD_MSG"},
			"Nats-Subject":       {channels.MessageSubject(0, "app1", "presence-room-42")},
			"Nats-Sequence":      {"1234567"},
			"Nats-Time-Stamp":    {"2026-01-02T03:04:05.123456789Z"},
			"Nats-Last-Sequence": {"1234560"},
		},
		Data: bytes.Repeat([]byte("x"), 128),
	}
	b.ReportAllocs()
	for b.Loop() {
		d, err := stream.DecodeLive(m)
		if err != nil || d.Serial != 1234567 {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkPublish measures synchronous publishes (one ack round trip
// each) to an R1 file stream with RePublish.
func BenchmarkPublish(b *testing.B) {
	e := newEnv(b)
	p := newPublisher(b, e.js, 0)
	m := msg("bench", "ev", string(bytes.Repeat([]byte("x"), 128)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Publish(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPublishBatch measures PublishBatch as the REST API calls it:
// one channel (a trigger to one channel, the common case), and 100
// channels, as one REST call with 100 channels makes.
func BenchmarkPublishBatch(b *testing.B) {
	e := newEnv(b)
	p := newPublisher(b, e.js, time.Minute)
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("msgs=%d", n), func(b *testing.B) {
			msgs := make([]stream.Message, n)
			for i := range msgs {
				msgs[i] = msg(fmt.Sprintf("chan-%d", i), "ev", string(bytes.Repeat([]byte("x"), 128)))
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.PublishBatch(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkRange measures Direct Get reads as resume and gap repair make
// them: a gap of one message, and a resume of 100 (one batch).
func BenchmarkRange(b *testing.B) {
	e := newEnv(b)
	p := newPublisher(b, e.js, 0)
	serials := publishN(b, p, "bench", 200)
	r := newReader(b, e.nc, stream.ReaderConfig{})
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("msgs=%d", n), func(b *testing.B) {
			after, upTo := serials[len(serials)-1-n], serials[len(serials)-1]
			b.ReportAllocs()
			for b.Loop() {
				ds, err := r.Range(b.Context(), testApp, "bench", after, upTo, 0)
				if err != nil || len(ds) != n {
					b.Fatal(len(ds), err)
				}
			}
		})
	}
}
