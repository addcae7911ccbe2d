package stream_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestClusterLeaderFailover: on a three-node cluster with an R3 stream,
// publishing and live delivery carry on when the stream leader goes away.
func TestClusterLeaderFailover(t *testing.T) {
	c := testinfra.NATSCluster(t, 3)
	nc := c.Connect(t)
	js := testinfra.JetStream(t, nc)
	ensure(t, js, stream.StreamConfig{Replicas: 3})
	p := newPublisher(t, js, testTimeout)
	r := newReader(t, nc, stream.ReaderConfig{})
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: c.Connect(t), Reader: r, Handler: rec.handle})
	subscribe(t, l, "c")

	want := publishN(t, p, "c", 10)
	rec.waitSerials(t, "c", want)

	leader := -1
	testinfra.WaitUntil(t, "a stream leader", func() bool {
		leader = c.StreamLeader(stream.StreamName(0))
		return leader >= 0
	})
	c.Shutdown(leader)
	want = append(want, publishN(t, p, "c", 10)...)
	rec.waitSerials(t, "c", want)

	got, err := r.Range(t.Context(), testApp, "c", 0, 0, 0)
	if err != nil || !slices.Equal(serialsOf(got), want) {
		t.Fatalf("Range after failover = %v, %v; want %v", serialsOf(got), err, want)
	}
	t.Logf("live stats %+v", l.Stats())
}

// TestClusterLiveReconnect: the live connection's server goes away; what
// was published while it reconnected reaches the handler without any
// later message on the channel (the reconnect probe).
func TestClusterLiveReconnect(t *testing.T) {
	c := testinfra.NATSCluster(t, 3)
	urls := strings.Split(c.ClientURLs(), ",")
	// Live is on server 0 first; the publisher never is.
	liveNC := c.Connect(t, nats.DontRandomize())
	if liveNC.ConnectedUrl() != urls[0] {
		t.Fatalf("live connection on %s, want %s", liveNC.ConnectedUrl(), urls[0])
	}
	nc, err := nats.Connect(strings.Join(urls[1:], ","), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := testinfra.JetStream(t, nc)
	ensure(t, js, stream.StreamConfig{Replicas: 3})
	p := newPublisher(t, js, testTimeout)
	r := newReader(t, nc, stream.ReaderConfig{})
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: liveNC, Reader: r, Handler: rec.handle})
	subscribe(t, l, "c")

	want := publishN(t, p, "c", 3)
	rec.waitSerials(t, "c", want)
	c.Shutdown(0)
	want = append(want, publishN(t, p, "c", 5)...)
	rec.waitSerials(t, "c", want)
	t.Logf("live stats %+v", l.Stats())
}
