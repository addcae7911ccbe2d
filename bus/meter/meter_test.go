package meter_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/internal/testinfra"
)

// testTimeout bounds each NATS call; nothing waits this long when the
// code works.
const testTimeout = 20 * time.Second

func TestMain(m *testing.M) { testinfra.Main(m) }

func TestSubjectIsUnderThePrefix(t *testing.T) {
	if got, want := meter.Subject("gw-1"), meter.SubjectPrefix+".gw-1"; got != want {
		t.Fatalf("Subject = %q, want %q", got, want)
	}
}

func newJetStream(t *testing.T) (context.Context, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	s := testinfra.NATS(t)
	return ctx, testinfra.JetStream(t, testinfra.NATSConn(t, s))
}

// streamInfo reads the flush stream's configuration and state.
func streamInfo(ctx context.Context, t *testing.T, js jetstream.JetStream) (jetstream.Stream, *jetstream.StreamInfo) {
	t.Helper()
	s, err := js.Stream(ctx, meter.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, info
}

// Every process ensures the stream when it starts, several at once in a
// cluster; a later start with another configuration updates it.
func TestEnsureStreamConcurrentAndUpdating(t *testing.T) {
	ctx, js := newJetStream(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- meter.EnsureStream(ctx, js, meter.StreamConfig{}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent EnsureStream: %v", err)
		}
	}
	if err := meter.EnsureStream(ctx, js, meter.StreamConfig{MaxAge: time.Hour, Duplicates: 30 * time.Second}); err != nil {
		t.Fatalf("EnsureStream with a new configuration: %v", err)
	}
	_, info := streamInfo(ctx, t, js)
	if info.Config.MaxAge != time.Hour || info.Config.Duplicates != 30*time.Second {
		t.Fatalf("stream config after update: max age %v, duplicates %v", info.Config.MaxAge, info.Config.Duplicates)
	}
	if got := info.Config.Subjects; len(got) != 1 || got[0] != meter.SubjectPrefix+".>" {
		t.Fatalf("subjects = %v", got)
	}
}

// A flush published again under its id (a retry after a lost
// acknowledgement) is stored once; another id is another flush.
func TestPublishDropsARepeatedFlushID(t *testing.T) {
	ctx, js := newJetStream(t)
	if err := meter.EnsureStream(ctx, js, meter.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	publish := []struct{ process, id, payload string }{
		{"gw-a", "gw-a-1", `{"n":1}`},
		{"gw-a", "gw-a-1", `{"n":1}`},
		{"gw-b", "gw-b-1", `{"n":2}`},
	}
	for _, p := range publish {
		if err := meter.Publish(ctx, js, p.process, p.id, []byte(p.payload)); err != nil {
			t.Fatalf("Publish %s: %v", p.id, err)
		}
	}
	s, info := streamInfo(ctx, t, js)
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d flushes, want 2", info.State.Msgs)
	}
	first, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Subject != meter.Subject("gw-a") || string(first.Data) != `{"n":1}` || first.Header.Get(jetstream.MsgIDHeader) != "gw-a-1" {
		t.Fatalf("first flush = %s %q %v", first.Subject, first.Data, first.Header)
	}
}

// Publishing before any process ensured the stream fails and says so: a
// flush must never be dropped silently.
func TestPublishWithoutTheStreamFails(t *testing.T) {
	ctx, js := newJetStream(t)
	if err := meter.Publish(ctx, js, "gw-a", "gw-a-1", []byte(`{}`)); err == nil {
		t.Fatal("Publish without the stream succeeded")
	}
}
