package gateways_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

// testTimeout is generous for a small shared machine; nothing waits this
// long when the code works.
const testTimeout = 20 * time.Second

func TestValidateGatewayID(t *testing.T) {
	for _, id := range []string{"a", "gw-1", "GW_2", strings.Repeat("g", gateways.MaxIDLen)} {
		if err := gateways.ValidateGatewayID(id); err != nil {
			t.Errorf("ValidateGatewayID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "gw.1", "gw 1", "gw*", "gw>", "gw/1", "é", strings.Repeat("g", gateways.MaxIDLen+1)} {
		if err := gateways.ValidateGatewayID(id); !errors.Is(err, channels.ErrBadRequest) {
			t.Errorf("ValidateGatewayID(%q) = %v, want a bad request", id, err)
		}
	}
}

// member is one registered gateway and what its callbacks saw.
type member struct {
	reg  *gateways.Registration
	mu   sync.Mutex
	gone []string
	lost int
}

func (m *member) seen() (gone []string, lost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.gone), m.lost
}

func register(t *testing.T, js jetstream.JetStream, id string) (*member, error) {
	t.Helper()
	m := &member{}
	reg, err := gateways.Register(t.Context(), gateways.Config{
		JS: js, ID: id, TTL: 2 * time.Second, HeartbeatInterval: 500 * time.Millisecond, MarkerTTL: 5 * time.Second,
		OnLost: func() { m.mu.Lock(); m.lost++; m.mu.Unlock() },
		OnGone: func(id string) { m.mu.Lock(); m.gone = append(m.gone, id); m.mu.Unlock() },
		Logger: testinfra.Logger(t),
	})
	m.reg = reg
	return m, err
}

// run runs m's registration until the returned stop is called or the
// test ends.
func (m *member) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); m.reg.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func ids(gs []gateways.Gateway) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

// newBucket starts a server with the registry bucket.
func newBucket(t *testing.T) (*natsembed.Server, jetstream.JetStream) {
	t.Helper()
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	if err := gateways.EnsureBucket(t.Context(), js, 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return srv, js
}

func TestRegistration(t *testing.T) {
	srv, js := newBucket(t)
	a, err := register(t, js, "gw-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := register(t, js, "gw-a"); !errors.Is(err, gateways.ErrIDInUse) {
		t.Fatalf("second Register = %v, want ErrIDInUse", err)
	}
	if _, err := register(t, js, "gw.a"); !errors.Is(err, channels.ErrBadRequest) {
		t.Fatalf("Register with a bad id = %v, want a bad request", err)
	}
	b, err := register(t, testinfra.JetStream(t, testinfra.NATSConn(t, srv)), "gw-b")
	if err != nil {
		t.Fatal(err)
	}
	a.run(t)
	stopB := b.run(t)
	testinfra.WaitUntilWithin(t, "both gateways listed by both", testTimeout, func() bool {
		return slices.Equal(ids(a.reg.Gateways()), []string{"gw-a", "gw-b"}) &&
			slices.Equal(ids(b.reg.Gateways()), []string{"gw-a", "gw-b"})
	})
	reader := gateways.NewReader(testinfra.NATSConn(t, srv))
	if got, err := reader.GatewayIDs(t.Context()); err != nil || !slices.Equal(got, []string{"gw-a", "gw-b"}) {
		t.Fatalf("Reader lists %v, %v", got, err)
	}

	// The cleanup lock is won once.
	if won, err := a.reg.ClaimCleanup(t.Context(), "gw-x"); err != nil || !won {
		t.Fatalf("first claim: %v, %v", won, err)
	}
	if won, err := b.reg.ClaimCleanup(t.Context(), "gw-x"); err != nil || won {
		t.Fatalf("second claim: %v, %v", won, err)
	}

	// A key deleted behind a gateway's back: it registers again and says
	// it was lost; the other sees it go.
	kv, err := js.KeyValue(t.Context(), gateways.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(t.Context(), "gw-a"); err != nil {
		t.Fatal(err)
	}
	// OnLost runs once per heartbeat that finds the key gone: once here,
	// or again if the re-registering write itself failed on a loaded
	// machine (the next heartbeat then finds the key still gone).
	var state string
	defer func() {
		if t.Failed() {
			t.Logf("after the delete: %s", state)
		}
	}()
	testinfra.WaitUntilWithin(t, "gw-a registered again", testTimeout, func() bool {
		_, lost := a.seen()
		gone, _ := b.seen()
		state = fmt.Sprintf("gw-a lost %d times, gw-b saw gone %v, live on a %v, on b %v", lost, gone, a.reg.Live("gw-a"), b.reg.Live("gw-a"))
		return lost >= 1 && slices.Contains(gone, "gw-a") && a.reg.Live("gw-a") && b.reg.Live("gw-a")
	})
	_, lostAfterDelete := a.seen()

	// A clean stop: the other sees it go at once, and the reader no
	// longer lists it.
	stopB()
	if err := b.reg.Unregister(t.Context()); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "gw-b gone", testTimeout, func() bool {
		gone, _ := a.seen()
		return slices.Contains(gone, "gw-b") && !a.reg.Live("gw-b")
	})
	if got, err := reader.GatewayIDs(t.Context()); err != nil || !slices.Equal(got, []string{"gw-a"}) {
		t.Fatalf("Reader lists %v, %v", got, err)
	}
	if gone, lost := a.seen(); lost != lostAfterDelete || slices.Contains(gone, "gw-a") {
		t.Fatalf("gw-a saw itself lost %d times (%d after the delete), gone %v", lost, lostAfterDelete, gone)
	}
}

// TestRegistrationExpires: a gateway that stops heartbeating is gone
// for the others once its TTL passes.
func TestRegistrationExpires(t *testing.T) {
	_, js := newBucket(t)
	a, err := register(t, js, "gw-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := register(t, js, "gw-dead"); err != nil { // never runs
		t.Fatal(err)
	}
	a.run(t)
	testinfra.WaitUntilWithin(t, "gw-dead expired", testTimeout, func() bool {
		gone, _ := a.seen()
		return slices.Contains(gone, "gw-dead")
	})
	if !a.reg.Live("gw-a") || a.reg.Live("gw-dead") {
		t.Fatalf("live: %v", ids(a.reg.Gateways()))
	}
}
