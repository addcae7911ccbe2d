package testinfra

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/freeport"
)

// Cluster fixture settings. Route ports are picked (freeport) below the kernel's
// ephemeral range (32768-60999 on Linux) so that no outgoing connection
// can take one between the pick and the listen, as nats-server's own
// cluster tests do.
const (
	clusterName         = "herald-test"
	clusterStartTries   = 3
	clusterReadyTimeout = 10 * time.Second
	clusterFormTimeout  = 30 * time.Second
)

// Cluster is a JetStream cluster of embedded servers on loopback, for
// tests of replicated streams and failover.
type Cluster struct {
	tb      testing.TB
	servers []*server.Server
}

// NATSCluster starts n clustered JetStream servers, each with its own
// store directory, routes to all the others and a random client port. It
// returns once the servers agree on a meta leader that sees all n peers,
// and shuts them all down at cleanup.
//
// internal/natsembed runs standalone servers only, so the servers are
// built here from nats-server's Options.
func NATSCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("nats cluster: need at least one server, got %d", n)
	}
	var lastErr error
	for try := 0; try < clusterStartTries; try++ {
		c := &Cluster{tb: tb}
		err := c.start(n)
		if err == nil {
			tb.Cleanup(c.shutdownAll)
			c.waitFormed(n)
			return c
		}
		// Most likely another process took one of the picked ports.
		c.shutdownAll()
		lastErr = err
	}
	tb.Fatalf("nats cluster: %v", lastErr)
	return nil
}

// start starts n servers on freshly picked route ports.
func (c *Cluster) start(n int) error {
	ports, err := freeport.Pick("127.0.0.1", n)
	if err != nil {
		return err
	}
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	logger := serverTestLogger(c.tb)
	for i := range n {
		opts := &server.Options{
			ServerName: "n" + strconv.Itoa(i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   c.tb.TempDir(),
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: clusterName,
				Host: "127.0.0.1",
				Port: ports[i],
			},
			// The route to itself is ignored; listing all keeps the config
			// symmetric, which JetStream clustering needs.
			Routes: routes,
		}
		s, err := server.NewServer(opts)
		if err != nil {
			return fmt.Errorf("new server %d: %w", i+1, err)
		}
		s.SetLoggerV2(logger, false, false, false)
		c.servers = append(c.servers, s)
		go s.Start()
		if !s.ReadyForConnections(clusterReadyTimeout) {
			return fmt.Errorf("server %d not ready (route port %d)", i+1, ports[i])
		}
	}
	return nil
}

// waitFormed waits until one running server is the meta leader and sees
// n peers.
func (c *Cluster) waitFormed(n int) {
	c.tb.Helper()
	WaitUntilWithin(c.tb, fmt.Sprintf("a nats cluster meta leader with %d peers", n), clusterFormTimeout, func() bool {
		for _, s := range c.servers {
			if s.Running() && s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == n {
				return true
			}
		}
		return false
	})
}

// Size is the number of servers, running or not.
func (c *Cluster) Size() int { return len(c.servers) }

// Server returns server i (0-based).
func (c *Cluster) Server(i int) *server.Server { return c.servers[i] }

// ClientURLs is the comma-separated client URLs of the servers still
// running, for nats.Connect.
func (c *Cluster) ClientURLs() string {
	var urls []string
	for _, s := range c.servers {
		if s.Running() {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Connect connects to the cluster, reconnecting to another server quickly
// and forever when one goes away (opts override that), and closes the
// connection at cleanup.
func (c *Cluster) Connect(tb testing.TB, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(c.ClientURLs(), reconnectForever(append([]nats.Option{nats.Name(tb.Name())}, opts...))...)
	return closedAtCleanup(tb, nc, err)
}

// StreamLeader returns the index of the server that leads stream (in the
// global account), or -1 when none does.
func (c *Cluster) StreamLeader(stream string) int {
	for i, s := range c.servers {
		if s.Running() && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// Shutdown stops server i and waits until it is down. The others keep
// running and elect new leaders as needed.
func (c *Cluster) Shutdown(i int) {
	c.tb.Helper()
	s := c.servers[i]
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Shutdown()
		s.WaitForShutdown()
	}()
	select {
	case <-done:
	case <-time.After(natsShutdownTimeout):
		c.tb.Errorf("nats cluster: server %d did not shut down in %s", i, natsShutdownTimeout)
	}
}

func (c *Cluster) shutdownAll() {
	ctx, cancel := context.WithTimeout(context.Background(), natsShutdownTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range c.servers {
			s.Shutdown()
		}
		for _, s := range c.servers {
			s.WaitForShutdown()
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		c.tb.Errorf("nats cluster: shutdown took longer than %s", natsShutdownTimeout)
	}
}

// serverTestLogger adapts the test log to nats-server's Logger: warnings
// and errors only, nothing after the test ends.
func serverTestLogger(tb testing.TB) server.Logger {
	return serverLogger{newTBWriter(tb)}
}

type serverLogger struct{ w *tbWriter }

func (l serverLogger) logf(level, format string, v []any) {
	_, _ = l.w.Write([]byte(level + ": " + fmt.Sprintf(format, v...)))
}

func (l serverLogger) Noticef(string, ...any)         {}
func (l serverLogger) Debugf(string, ...any)          {}
func (l serverLogger) Tracef(string, ...any)          {}
func (l serverLogger) Warnf(format string, v ...any)  { l.logf("WRN", format, v) }
func (l serverLogger) Errorf(format string, v ...any) { l.logf("ERR", format, v) }
func (l serverLogger) Fatalf(format string, v ...any) { l.logf("FTL", format, v) }
