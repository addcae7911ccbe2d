// Command scale runs Herald at 100,000 connections on one machine: one
// nats-server, PostgreSQL, one control plane and several gateways from
// real processes (internal/topology, without a balancer), then `herald
// bench` with several worker processes spreading the WebSockets over
// every gateway from 127.0.0.x source addresses, one broadcast a second
// to a channel they all hold. It prints connect rate, loss, latency and
// each process's memory and CPU, and stops everything. See README.md.
//
//	go run ./deploy/scale -conns 100000 -gateways 6 -workers 7 -duration 60s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/topology"
)

// Defaults of the flags: the run of docs/performance.md, "100,000
// connections".
const (
	defaultConns    = 100000
	defaultGateways = 6
	// defaultWorkers keeps each worker under 15,000 sockets, inside a
	// 20,000 open-file limit.
	defaultWorkers  = 7
	defaultDuration = 60 * time.Second
	defaultRate     = 1
	// defaultDrain is long because the run ends as soon as every
	// delivery arrived: on a saturated machine the backlog at the end of
	// a 60 s run reached 20 s, and a shorter drain counts late
	// deliveries as lost.
	defaultDrain  = 60 * time.Second
	defaultMaxP99 = 200 * time.Millisecond
	// defaultConnectConcurrency is each worker's handshakes in flight.
	defaultConnectConcurrency = 32
	// sourcesPerWorker: each 127.0.0.x source has about 28,000 ephemeral
	// ports; two per worker leave room to spare.
	sourcesPerWorker = 2
	// firstSource is the last byte of the first source address
	// (127.0.0.1 stays the servers').
	firstSource = 2
	appID       = "scale"
	dirPerm     = 0o700
)

// gatewayArgs lift the per-app and per-address connection rate limits,
// which exist to slow a flood from the internet: here every client is one
// load generator. (Loopback clients skip the per-address limit anyway,
// unless --rate-limit-loopback.)
var gatewayArgs = []string{"--conn-rate-per-app", "-1", "--conn-rate-per-ip", "-1"}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "deploy/scale:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	dir        string
	conns      int
	gateways   int
	workers    int
	duration   time.Duration
	rate       float64
	drain      time.Duration
	maxP99     time.Duration
	concurrent int
	src        string
	onlyStart  bool
	gomaxprocs int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("deploy/scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dir, "dir", ".herald-scale", "folder of every process's files and logs (the PostgreSQL cluster is removed at the end)")
	fs.IntVar(&o.conns, "conns", defaultConns, "WebSocket connections, all on one channel")
	fs.IntVar(&o.gateways, "gateways", defaultGateways, "herald gateway processes")
	fs.IntVar(&o.workers, "workers", defaultWorkers, "herald bench worker processes holding the connections")
	fs.DurationVar(&o.duration, "duration", defaultDuration, "how long to publish")
	fs.Float64Var(&o.rate, "rate", defaultRate, "broadcasts per second")
	fs.DurationVar(&o.drain, "drain", defaultDrain, "how long to wait for late deliveries")
	fs.DurationVar(&o.maxP99, "max-p99", defaultMaxP99, "the latency target the run is judged by")
	fs.IntVar(&o.concurrent, "connect-concurrency", defaultConnectConcurrency, "handshakes in flight per worker")
	fs.StringVar(&o.src, "src", "", "source addresses of the connections (herald bench --src); empty: 2 per worker from 127.0.0.2")
	fs.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS of every gateway, control plane and bench process (0: Go's default, one per core)")
	fs.BoolVar(&o.onlyStart, "only-start", false, "start the fleet, print its URLs, pids and app credentials and wait for Ctrl-C (run a load generator by hand)")
	fs.BoolVar(&o.onlyStart, "keep", false, "the same as -only-start")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.conns <= 0 || o.gateways <= 0 || o.workers <= 0 || o.workers > o.conns {
		return o, errors.New("-conns, -gateways and -workers must be positive, and -workers at most -conns")
	}
	if o.src == "" {
		o.src = fmt.Sprintf("127.0.0.%d-127.0.0.%d", firstSource, firstSource+sourcesPerWorker*o.workers-1)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return err
	}
	pgDir, err := pgcluster.DirFor(abs)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A fresh master key each run: the database of an earlier one goes.
	if err := pgcluster.RemoveDir(ctx, pgDir); err != nil {
		return err
	}
	// Deferred first, so it runs after the topology's stop; not ctx,
	// which may be the interrupt that ended the run.
	defer func() {
		if err := pgcluster.RemoveDir(context.Background(), pgDir); err != nil {
			fmt.Fprintln(stderr, "deploy/scale: remove PostgreSQL:", err)
		}
	}()
	fmt.Fprintf(stdout, "building herald and nats-server, starting 1 NATS, PostgreSQL, 1 control plane and %d gateways in %s …\n", o.gateways, abs)
	herald, nats, err := topology.BuildBinaries(ctx, filepath.Join(abs, "bin"))
	if err != nil {
		return err
	}
	top, err := topology.Start(ctx, topology.Options{
		Dir: abs, PostgresDir: pgDir, HeraldBin: herald, NATSBin: nats,
		NATSNodes: 1, ControlPlanes: 1, Gateways: o.gateways, NoBalancer: true,
		GatewayArgs: gatewayArgs, HeraldEnv: o.env(),
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "stopping every process …")
		if err := top.Close(); err != nil {
			fmt.Fprintln(stderr, "deploy/scale: stop:", err)
		}
	}()
	app, err := top.CreateApp(ctx, appID, nil)
	if err != nil {
		return err
	}
	f := newFleet(top, app)
	if err := f.waitAppKnown(ctx); err != nil {
		return err
	}
	if o.onlyStart {
		f.printInfo(stdout, o)
		<-ctx.Done()
		return nil
	}
	res, err := runBench(ctx, f, o, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, o)
	return nil
}

// env is the environment the herald and bench processes get on top of
// this one's.
func (o options) env() []string {
	if o.gomaxprocs <= 0 {
		return nil
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(o.gomaxprocs)}
}
