package testenv

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Test timings of the topology: second-scale, so that a rolling restart
// takes seconds.
const (
	topologyShutdownSpread = time.Second
	topologyHealthInterval = 200 * time.Millisecond
	topologyStopTimeout    = 20 * time.Second
)

// Topology starts the production topology (internal/topology: a NATS
// cluster, PostgreSQL, control planes, gateways and HAProxy) from freshly
// built binaries, with test timings; modify, if given, adjusts the
// Options first. Every process logs JSON at debug level to the files
// testinfra.Main scans for secrets. Everything is stopped at cleanup.
func Topology(tb testing.TB, modify ...func(*topology.Options)) *topology.Topology {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ProcTimeout)
	defer cancel()
	dir := tb.TempDir()
	herald, nats, err := topology.BuildBinaries(ctx, filepath.Join(dir, "bin"))
	if err != nil {
		tb.Fatal(err)
	}
	opts := topology.Options{
		Dir:               dir,
		PostgresDir:       testinfra.ClusterDir(tb),
		PostgresInitCache: testinfra.InitCache(),
		PostgresFast:      true,
		HeraldBin:         herald,
		NATSBin:           nats,
		ShutdownSpread:    topologyShutdownSpread,
		HealthInterval:    topologyHealthInterval,
		StartTimeout:      ProcTimeout,
		StopTimeout:       topologyStopTimeout,
		HeraldEnv:         []string{"HERALD_LOG_LEVEL=debug", "HERALD_LOG_FORMAT=json"},
		Log:               func(name string) io.Writer { return testinfra.LogWriter("topology-" + name) },
	}
	for _, m := range modify {
		m(&opts)
	}
	started := time.Now()
	t, err := topology.Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := t.Close(); err != nil {
			tb.Errorf("topology close: %v", err)
		}
	})
	testinfra.Sensitive(t.AdminToken())
	testinfra.Sensitive(t.MasterKey())
	tb.Logf("topology up at %s after %s", t.URL(), time.Since(started).Round(time.Millisecond))
	return t
}
