package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/secretbox"
)

// Platform is one running Herald process: dev mode's everything, or the
// control plane alone.
type Platform struct {
	cfg Config
	ops *ops.Ops

	// Set while starting; read after Ready is closed.
	addr       string
	adminToken string
	natsURL    string
	gatewayID  string
	box        *secretbox.Box
	parts      parts
	// newDataDir is set when dev mode starts on a data folder without a
	// master key (datadir.go).
	newDataDir bool

	ready     chan struct{}
	stop      chan struct{}
	stopOnce  sync.Once
	done      chan struct{}
	closers   []closer
	killed    atomic.Bool
	startedMu sync.Mutex
	started   bool
}

// closer undoes one start step; they run in reverse order on shutdown.
type closer struct {
	name string
	fn   func(ctx context.Context) error
}

// New validates cfg and returns a Platform ready to Run.
func New(cfg Config) (*Platform, error) {
	cfg.setDefaults()
	if err := cfg.validateListener(); err != nil {
		return nil, err
	}
	if err := cfg.Perf.validate(); err != nil {
		return nil, err
	}
	if cfg.Mode == ModeGateway {
		if cfg.NATSURL == "" {
			return nil, errors.New("gateway needs --nats-url")
		}
		if cfg.MasterKey == "" {
			return nil, errors.New("gateway needs --master-key (the control plane's, to open app key secrets)")
		}
	}
	if cfg.Reset && (cfg.Mode != ModeDev || cfg.DatabaseURL != "") {
		return nil, errors.New("--reset deletes dev mode's managed PostgreSQL cluster: leave --database-url out (empty that database yourself)")
	}
	if cfg.Mode == ModeControlPlane {
		if cfg.DatabaseURL == "" {
			return nil, errors.New("controlplane needs --database-url")
		}
		if cfg.NATSURL == "" {
			return nil, errors.New("controlplane needs --nats-url")
		}
		if cfg.MasterKey == "" {
			return nil, errors.New("controlplane needs --master-key")
		}
	}
	return &Platform{
		cfg:   cfg,
		ops:   ops.New(ops.Config{}),
		ready: make(chan struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

// Ready is closed once the process serves requests.
func (p *Platform) Ready() <-chan struct{} { return p.ready }

// Done is closed once Run has returned, whether it failed to start or
// shut down.
func (p *Platform) Done() <-chan struct{} { return p.done }

// Addr is the bound HTTP address ("127.0.0.1:6001"); valid after Ready.
func (p *Platform) Addr() string { return p.addr }

// URL is the base HTTP URL (https:// with TLS); valid after Ready.
func (p *Platform) URL() string { return p.scheme() + "://" + p.addr }

// AdminToken is the bootstrap admin token in effect; valid after Ready.
func (p *Platform) AdminToken() string { return p.adminToken }

// MetricNames lists the metric families the process registered, with
// or without series yet (docs/operations.md, "Metrics catalog").
func (p *Platform) MetricNames() []string { return p.ops.MetricNames() }

// NATSURL is the embedded NATS server's client URL when it listens, or the
// external NATS URL; valid after Ready.
func (p *Platform) NATSURL() string { return p.natsURL }

// Run starts every part, serves until ctx is done or Close is called, then
// shuts down gracefully. It returns the first error that stopped it; a
// normal stop returns nil.
func (p *Platform) Run(ctx context.Context) (err error) {
	p.startedMu.Lock()
	if p.started {
		p.startedMu.Unlock()
		return errors.New("platform: Run called twice")
	}
	p.started = true
	p.startedMu.Unlock()
	defer close(p.done)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	defer func() {
		if serr := p.shutdown(); err == nil {
			err = serr
		}
		if p.killed.Load() {
			// Whatever failed after Kill is the simulated crash.
			err = nil
		}
	}()
	// Listening comes first, so that a port in use is refused before
	// anything is created (data folder, database); clients that connect
	// while the rest starts wait in the listen backlog, then get 503 until
	// the caches have loaded (startgate.go).
	ln, err := p.listen()
	if err != nil {
		return err
	}
	if err := p.start(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	if p.cfg.Mode == ModeDev {
		if err := p.writeURLFile(); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv := p.newServer(p.handler())
	if a := p.parts.api; a != nil {
		// Open debug streams never go idle: Shutdown would wait for
		// them until its timeout.
		srv.RegisterOnShutdown(a.StopStreams)
	}
	p.addCloser("http server", srv.Shutdown)

	// Background work runs on its own context so that, on stop, the HTTP
	// server and the gateway's connections are drained while presence,
	// the stream and the caches still run.
	bgCtx, bgCancel := context.WithCancel(context.Background())
	defer bgCancel()
	g, gctx := errgroup.WithContext(bgCtx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	p.runBackground(gctx, g)

	// Ready before the listening line: scripts and tests take that line
	// as the sign that /readyz answers 200 (the starting gate answers 503
	// until p.ready is closed).
	close(p.ready)
	if p.cfg.Mode == ModeDev {
		p.printBanner()
	}
	fmt.Fprintf(p.cfg.Stdout, "herald: listening on %s\n", p.URL())
	p.cfg.Logger.Info("herald serving", "addr", p.addr)

	select {
	case <-ctx.Done():
	case <-gctx.Done():
	}
	// Readiness fails first, so that a load balancer stops sending new
	// clients here. The gateway then drains its connections (4200, spread
	// over --shutdown-spread) while the listener still answers: /readyz
	// says 503 and new WebSockets and SSE streams are refused with 503, so
	// the balancer sees a draining server, not a dead one. The HTTP server
	// stops last, before waiting for the group: Serve returns only once
	// Shutdown is called.
	p.ops.ShuttingDown()
	p.runCloser("gateway connections")
	p.runCloser("http server")
	p.finalMeterFlush()
	bgCancel()
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Close stops a running Platform and waits until it has shut down. It is
// safe to call more than once, and before or without Run.
func (p *Platform) Close() error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.startedMu.Lock()
	started := p.started
	p.startedMu.Unlock()
	if started {
		<-p.done
	}
	return nil
}

func (p *Platform) addCloser(name string, fn func(ctx context.Context) error) {
	p.closers = append(p.closers, closer{name: name, fn: fn})
}

// runCloser runs and removes the named closer early.
func (p *Platform) runCloser(name string) {
	for i := len(p.closers) - 1; i >= 0; i-- {
		if p.closers[i].name != name {
			continue
		}
		c := p.closers[i]
		p.closers = append(p.closers[:i], p.closers[i+1:]...)
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
		defer cancel()
		if err := c.fn(ctx); err != nil {
			p.cfg.Logger.Warn("shutdown step failed", "step", c.name, "err", err)
		}
		return
	}
}

// shutdown undoes every start step in reverse order, each bounded by the
// shutdown timeout, and returns the first error.
func (p *Platform) shutdown() error {
	var first error
	for i := len(p.closers) - 1; i >= 0; i-- {
		c := p.closers[i]
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
		err := c.fn(ctx)
		cancel()
		if err != nil {
			p.cfg.Logger.Warn("shutdown step failed", "step", c.name, "err", err)
			if first == nil {
				first = fmt.Errorf("stop %s: %w", c.name, err)
			}
		}
	}
	p.closers = nil
	return first
}

// Kill stops the process the way a crash would, as far as the cluster can
// tell: the NATS connections are closed at once, so nothing this process
// registered (presence members, its gateway registry key) is cleaned up,
// and the rest of the cluster must notice on its own. Tests use it; the
// local resources are then released as by Close.
func (p *Platform) Kill() {
	p.killed.Store(true)
	select {
	case <-p.ready:
		for _, nc := range []*nats.Conn{p.parts.nc, p.parts.liveNC} {
			if nc != nil {
				nc.Close()
			}
		}
	default:
	}
	_ = p.Close()
}
