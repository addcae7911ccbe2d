package occupancy_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

// readyTimeout bounds the wait for a responder's subscriptions.
const readyTimeout = 5 * time.Second

// env is one embedded NATS server with the gateway registry bucket.
type env struct {
	srv      *natsembed.Server
	nc       *nats.Conn
	registry jetstream.KeyValue
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	srv := testinfra.NATS(tb)
	nc := testinfra.NATSConn(tb, srv)
	js := testinfra.JetStream(tb, nc)
	ctx := tb.Context()
	if err := gateways.EnsureBucket(ctx, js, 1, time.Second); err != nil {
		tb.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, gateways.Bucket)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{srv: srv, nc: nc, registry: kv}
}

// register puts a gateway key in the registry, as gateways.Register does.
func (e *env) register(tb testing.TB, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		if _, err := e.registry.Put(tb.Context(), id, []byte(`{"id":"`+id+`"}`)); err != nil {
			tb.Fatal(err)
		}
	}
}

// client returns a Client reading the registry, waiting at most timeout.
func (e *env) client(tb testing.TB, timeout time.Duration) *occupancy.Client {
	tb.Helper()
	c, err := occupancy.NewClient(occupancy.ClientConfig{
		NC: testinfra.NATSConn(tb, e.srv), Timeout: timeout,
		Registry: gateways.NewReader(e.nc),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// serve runs a Responder for gateway id answering from src, on its own
// connection, until the test ends.
func (e *env) serve(tb testing.TB, id string, src occupancy.Source, mod ...func(*occupancy.ResponderConfig)) {
	tb.Helper()
	cfg := occupancy.ResponderConfig{NC: testinfra.NATSConn(tb, e.srv), GatewayID: id, Source: src}
	for _, m := range mod {
		m(&cfg)
	}
	r, err := occupancy.NewResponder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("responder %s: %v", id, err)
		}
	})
	select {
	case <-r.Ready():
	case err := <-done:
		tb.Fatalf("responder %s stopped: %v", id, err)
	case <-time.After(readyTimeout):
		tb.Fatalf("responder %s not ready", id)
	}
}

// source is an in-memory gateway: its channels per app, and the users
// whose connections it holds per app.
type source struct {
	chans map[string][]occupancy.ChannelCount

	mu         sync.Mutex
	users      map[string]map[string]int // app -> user -> signed-in connections
	terminated []string
}

func (s *source) Channels(q occupancy.Query) []occupancy.ChannelCount {
	var out []occupancy.ChannelCount
	for _, cc := range s.chans[q.AppID] {
		if !q.Selects(cc.Name) {
			continue
		}
		if !q.Users {
			cc.UserIDs = nil
		}
		out = append(out, cc)
	}
	return out
}

func (s *source) TerminateUser(appID, userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminated = append(s.terminated, appID+"/"+userID)
	n := s.users[appID][userID]
	delete(s.users[appID], userID)
	return n
}
