package platform

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestBucketCreationRetriedAtStartUp: a key-value bucket whose creation
// fails while JetStream does not answer (here, a server without
// JetStream, replaced by one with it) is created once it does, as the
// streams are, instead of failing the start.
func TestBucketCreationRetriedAtStartUp(t *testing.T) {
	plain, err := server.NewServer(&server.Options{Host: natsembed.DefaultHost, Port: server.RANDOM_PORT, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go plain.Start()
	t.Cleanup(plain.Shutdown)
	if !plain.ReadyForConnections(10 * time.Second) {
		t.Fatal("plain nats not ready")
	}
	port := plain.Addr().(*net.TCPAddr).Port
	nc, err := nats.Connect(plain.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(testinfra.NATSReconnectWait))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	var logs testinfra.LogBuffer
	done := make(chan error, 1)
	go func() {
		done <- retryStartup(t.Context(), logs.Logger(), "presence buckets", func(ctx context.Context) error {
			return presence.EnsureBuckets(ctx, js, 1, 0)
		})
	}()
	testinfra.WaitUntil(t, "a failed attempt", func() bool { return strings.Contains(logs.String(), "retrying") })

	plain.Shutdown()
	plain.WaitForShutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	js2, err := natsembed.Start(ctx, natsembed.Config{StoreDir: t.TempDir(), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js2.Shutdown(context.Background()) })

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bucket creation after JetStream came up: %v", err)
		}
	case <-time.After(startupRetryWindow):
		t.Fatal("bucket creation still retrying")
	}
	if _, err := js.KeyValue(ctx, presence.MemberBucket); err != nil {
		t.Fatalf("member bucket: %v", err)
	}
}

// TestEnsureBucketReturnsTheBucket: the generic wrapper hands back what
// the creation returned, and its error once the context ends.
func TestEnsureBucketReturnsTheBucket(t *testing.T) {
	var logs testinfra.LogBuffer
	calls := 0
	got, err := ensureBucket(t.Context(), logs.Logger(), "test bucket", func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, context.DeadlineExceeded
		}
		return 42, nil
	})
	if err != nil || got != 42 || calls != 3 {
		t.Fatalf("ensureBucket = %d, %v after %d calls; want 42 after 3", got, err, calls)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ensureBucket(ctx, logs.Logger(), "test bucket", func(context.Context) (int, error) {
		return 0, context.DeadlineExceeded
	}); err == nil {
		t.Fatal("ensureBucket with a done context succeeded")
	}
}
