package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
	"github.com/heraldhq/herald/cmd/herald/internal/config"
)

// benchOptions are the flags of herald bench that are not bench.Config
// fields.
type benchOptions struct {
	rates     string
	rate      float64
	idle      bool
	hold      time.Duration
	json      bool
	keepGoing bool
	pprof     string
	wsURLs    string
	src       string
}

// workerArg, as the first argument of herald bench, runs a fleet's worker
// (bench.ServeWorker): a mode only `herald bench --workers` starts, so it
// is no flag of its own.
const workerArg = "--worker"

// runBench runs `herald bench`: a load test of a running Herald.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == workerArg {
		return runBenchWorker(ctx, stderr)
	}
	fs := flag.NewFlagSet("herald bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: herald bench [flags]\n\nOpens subscribers on a running Herald, publishes through its REST API at each rate\nand reports deliveries/s, loss, duplicates and latency. Run it on the server's machine\n(latency compares the two processes' clocks).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var cfg bench.Config
	var o benchOptions
	fs.StringVar(&cfg.URL, "url", bench.DefaultURL, "Herald's HTTP address (REST API and WebSocket)")
	fs.StringVar(&cfg.AppID, "app-id", bench.DefaultAppID, "app id")
	fs.StringVar(&cfg.Key, "key", bench.DefaultKey, "app key")
	fs.StringVar(&cfg.Secret, "secret", bench.DefaultSecret, "app key secret")
	fs.IntVar(&cfg.Subscribers, "subscribers", bench.DefaultSubscribers, "WebSocket subscribers to open")
	fs.IntVar(&cfg.Channels, "channels", bench.DefaultChannels, "channels the subscribers are spread over")
	fs.StringVar(&o.rates, "rates", "", "comma-separated publish rates (events/s over all channels) to sweep, e.g. 100,200,500")
	fs.Float64Var(&o.rate, "rate", 100, "one publish rate, when --rates is empty")
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "how long each rate publishes")
	fs.IntVar(&cfg.PayloadBytes, "payload-bytes", bench.DefaultPayloadBytes, "size of each event's data")
	fs.IntVar(&cfg.Publishers, "publishers", bench.DefaultPublishers, "publish requests in flight at most (keep-alive connections)")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", bench.DefaultConnectConcurrency, "connections opened at once")
	fs.DurationVar(&cfg.Drain, "drain", bench.DefaultDrain, "how long a step waits for late deliveries")
	fs.DurationVar(&cfg.MaxP99, "max-p99", bench.DefaultMaxP99, "p99 latency a step must stay under to count as the best")
	fs.BoolVar(&o.keepGoing, "keep-going", false, "sweep every rate even after a step lost events or missed --max-p99")
	fs.BoolVar(&o.idle, "idle", false, "only open the subscribers and hold them, reporting the server's resident memory per connection every 10 s (memory measurements)")
	fs.DurationVar(&o.hold, "hold", 0, "with --idle: how long to hold the subscribers (0: until interrupted)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per step")
	fs.StringVar(&o.pprof, "pprof", "", "write a CPU profile of this load generator to this file")
	fs.StringVar(&o.wsURLs, "ws-urls", "", "comma-separated HTTP addresses the subscribers connect to, round robin, instead of --url (every gateway of a fleet without a balancer); --url stays the REST API's")
	fs.StringVar(&o.src, "src", "", "comma-separated local addresses or ranges (127.0.0.2-127.0.0.9) the subscribers connect from, round robin: each address has its own ephemeral ports")
	fs.IntVar(&cfg.Workers, "workers", 0, "open the subscribers in this many worker processes (each under its own open-file limit, with its own share of --src); 0: in this one")
	if err := config.Parse(fs, args, getenv); err != nil {
		return usageError(err)
	}
	rates, err := parseRates(o.rates, o.rate)
	if err == nil {
		err = o.apply(&cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
		return 2
	}
	if cfg.Workers > 0 {
		cfg.SpawnWorker = spawnBenchWorker(stderr)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := benchMain(ctx, cfg, o, rates, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
		if errors.Is(err, bench.ErrConfig) {
			return 2
		}
		return 1
	}
	return 0
}

func benchMain(ctx context.Context, cfg bench.Config, o benchOptions, rates []float64, stdout, stderr io.Writer) error {
	// With workers, each process holds its share; they share the limit
	// this one has.
	perProcess := cfg.Subscribers
	if cfg.Workers > 0 {
		perProcess = (cfg.Subscribers + cfg.Workers - 1) / cfg.Workers
	}
	if limit, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
	} else if uint64(perProcess) >= limit {
		fmt.Fprintf(stderr, "herald bench: %d subscribers in one process need more than the %d open files allowed (ulimit -n)\n", perProcess, limit)
	}
	if o.pprof != "" {
		f, err := os.Create(o.pprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b, err := bench.New(cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	cfg = b.Config()

	var rssBefore int64
	if o.idle {
		rssBefore = idleRSS(ctx, b, stderr, "before connecting")
	}
	start := time.Now()
	if err := b.Connect(ctx, nil); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if cfg.Workers > 0 {
		if err := printFleetConnected(b.Connected(), cfg, o.json, stdout, stderr); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stderr, "%d subscribers on %d channel(s) connected in %s\n", cfg.Subscribers, cfg.Channels, time.Since(start).Round(time.Millisecond))
	}
	if o.idle {
		holdIdle(ctx, b, o.hold, rssBefore, stderr)
		fmt.Fprintf(stderr, "%d of %d still connected\n", b.Open(), cfg.Subscribers)
		return nil
	}
	p := bench.NewPrinter(stdout, o.json)
	var printErr error
	steps, err := b.Sweep(ctx, rates, o.keepGoing, func(s bench.Step) {
		printErr = errors.Join(printErr, p.Step(s))
	})
	if err != nil {
		return err
	}
	return errors.Join(printErr, p.Best(steps, cfg.MaxP99))
}

// apply sets the Config fields of the list flags.
func (o benchOptions) apply(cfg *bench.Config) error {
	for u := range strings.SplitSeq(o.wsURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.WSURLs = append(cfg.WSURLs, u)
		}
	}
	var err error
	if cfg.Sources, err = bench.ParseSources(o.src); err != nil {
		return err
	}
	if cfg.Workers > 0 && o.idle {
		return fmt.Errorf("%w: --idle reads one server's memory; run it without --workers", bench.ErrConfig)
	}
	return nil
}

// parseRates reads --rates, or --rate when it is empty.
func parseRates(list string, one float64) ([]float64, error) {
	if strings.TrimSpace(list) == "" {
		if one <= 0 {
			return nil, fmt.Errorf("--rate must be positive, not %v", one)
		}
		return []float64{one}, nil
	}
	var rates []float64
	for _, f := range strings.Split(list, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("--rates: %q is not a positive number", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}
