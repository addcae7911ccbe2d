package stream_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Generous for a small shared machine; nothing waits this long when the
// code works.
const (
	testTimeout  = 20 * time.Second
	pollInterval = 5 * time.Millisecond
	testApp      = "app1"
)

// env is one embedded server with the stream ensured, and separate
// connections for JetStream traffic and live subscriptions.
type env struct {
	nc, liveNC *nats.Conn
	js         jetstream.JetStream
}

func newEnv(tb testing.TB) env {
	tb.Helper()
	s := testinfra.NATS(tb)
	nc := testinfra.NATSConn(tb, s)
	js := testinfra.JetStream(tb, nc)
	ensure(tb, js, stream.StreamConfig{})
	// Slow-consumer tests drop messages on purpose; nats.go would print
	// each episode to stderr.
	quiet := nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})
	return env{nc: nc, liveNC: testinfra.NATSConn(tb, s, quiet), js: js}
}

func ensure(tb testing.TB, js jetstream.JetStream, cfg stream.StreamConfig) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testTimeout)
	defer cancel()
	if err := stream.Ensure(ctx, js, cfg); err != nil {
		tb.Fatalf("Ensure: %v", err)
	}
}

func newPublisher(tb testing.TB, js jetstream.JetStream, timeout time.Duration) *stream.Publisher {
	tb.Helper()
	p, err := stream.NewPublisher(stream.PublisherConfig{JS: js, Timeout: timeout, Logger: testinfra.Logger(tb)})
	if err != nil {
		tb.Fatalf("NewPublisher: %v", err)
	}
	return p
}

func newReader(tb testing.TB, nc *nats.Conn, cfg stream.ReaderConfig) *stream.Reader {
	tb.Helper()
	cfg.NC = nc
	if cfg.Logger == nil {
		cfg.Logger = testinfra.Logger(tb)
	}
	r, err := stream.NewReader(cfg)
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	return r
}

func msg(channel, event, data string) stream.Message {
	return stream.Message{AppID: testApp, Channel: channel, Event: event, Data: []byte(data), Source: stream.SourceAPI}
}

func publish(tb testing.TB, p *stream.Publisher, m stream.Message) uint64 {
	tb.Helper()
	serial, dup, err := p.Publish(tb.Context(), m)
	if err != nil {
		tb.Fatalf("Publish %s: %v", m.Channel, err)
	}
	if dup {
		tb.Fatalf("Publish %s: unexpected duplicate", m.Channel)
	}
	return serial
}

// publishN publishes n messages to channel and returns their serials.
func publishN(tb testing.TB, p *stream.Publisher, channel string, n int) []uint64 {
	tb.Helper()
	serials := make([]uint64, n)
	for i := range serials {
		serials[i] = publish(tb, p, msg(channel, "ev", fmt.Sprintf(`{"i":%d}`, i)))
	}
	return serials
}

func serialsOf(ds []stream.Delivery) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Serial
	}
	return out
}

// recorder is a Live handler that keeps copies of what it receives.
type recorder struct {
	mu  sync.Mutex
	got map[string][]stream.Delivery
}

func newRecorder() *recorder { return &recorder{got: map[string][]stream.Delivery{}} }

func (r *recorder) handle(d *stream.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[d.Channel] = append(r.got[d.Channel], *d)
}

func (r *recorder) deliveries(channel string) []stream.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[channel])
}

// waitSerials waits until channel has received at least len(want)
// deliveries and checks they are exactly want, in order.
func (r *recorder) waitSerials(tb testing.TB, channel string, want []uint64) {
	tb.Helper()
	testinfra.WaitUntil(tb, fmt.Sprintf("%d deliveries on %s", len(want), channel), func() bool {
		return len(r.deliveries(channel)) >= len(want)
	})
	if got := serialsOf(r.deliveries(channel)); !slices.Equal(got, want) {
		tb.Fatalf("deliveries on %s:\n got  %v\n want %v", channel, got, want)
	}
}

// startLive runs a Live with handler until the test ends.
func startLive(tb testing.TB, cfg stream.LiveConfig) *stream.Live {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testinfra.Logger(tb)
	}
	l, err := stream.NewLive(cfg)
	if err != nil {
		tb.Fatalf("NewLive: %v", err)
	}
	testinfra.Background(tb, l.Run)
	return l
}

func subscribe(tb testing.TB, l *stream.Live, channel string) {
	tb.Helper()
	if err := l.Subscribe(testApp, channel); err != nil {
		tb.Fatalf("Subscribe %s: %v", channel, err)
	}
}
