package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/internal/hoptrace"
)

// PerfConfig holds the profiling switches, all off by default
// (docs/performance.md).
type PerfConfig struct {
	// PprofAddr serves net/http/pprof's handlers under /debug/pprof/ on
	// a listener of their own (--pprof-addr); empty serves none. Only a
	// loopback address is accepted: profiles expose the process's
	// memory, command line and timing.
	PprofAddr string
	// TraceHops times each hop of a REST publish's way to the sockets
	// into herald_hop_duration_seconds (--trace-hops).
	TraceHops bool
}

// perfParts are the running profiling pieces.
type perfParts struct {
	// hops is nil unless TraceHops: the hot paths check it for nil.
	hops    *hoptrace.Recorder
	pprofLn net.Listener
}

// ErrPprofNotLoopback refuses a --pprof-addr other than loopback.
var ErrPprofNotLoopback = errors.New("--pprof-addr must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT): the profiler exposes the process's memory and command line")

func (c *PerfConfig) validate() error {
	if c.PprofAddr == "" {
		return nil
	}
	return checkLoopback(c.PprofAddr)
}

// checkLoopback accepts host:port whose host is localhost or a loopback
// IP (127.0.0.0/8, ::1); an empty host would listen on every interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w; %q: %w", ErrPprofNotLoopback, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w; got %q", ErrPprofNotLoopback, addr)
}

// startPerf binds the profiler's listener, so that a port in use stops
// the start, and sets up hop tracing.
func (p *Platform) startPerf() error {
	if p.cfg.Perf.TraceHops {
		hops := hoptrace.New()
		if err := p.ops.Registry().Register(hops); err != nil {
			return fmt.Errorf("hop metrics: %w", err)
		}
		p.parts.perf.hops = hops
	}
	if p.cfg.Perf.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", p.cfg.Perf.PprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	p.parts.perf.pprofLn = ln
	// Serve's shutdown closes it first; this covers a start that fails.
	p.addCloser("pprof listener", func(context.Context) error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	return nil
}

// PprofAddr is the profiler's bound address, empty without --pprof-addr;
// valid after Ready.
func (p *Platform) PprofAddr() string {
	if ln := p.parts.perf.pprofLn; ln != nil {
		return ln.Addr().String()
	}
	return ""
}

// runPprof serves the profiler in g until ctx is done.
func (p *Platform) runPprof(ctx context.Context, g *errgroup.Group) {
	ln := p.parts.perf.pprofLn
	if ln == nil {
		return
	}
	srv := &http.Server{
		Handler: pprofMux(),
		// No write timeout: /debug/pprof/profile and /trace answer after
		// the ?seconds= they were asked for.
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ErrorLog:          slogErrorLog(p.cfg.Logger),
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("pprof server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		// Profiles in progress are cut: they are a debugging aid.
		return srv.Close()
	})
	p.cfg.Logger.Info("pprof serving", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
}

// pprofMux routes net/http/pprof's handlers on a mux of their own, never
// on http.DefaultServeMux (which the package's import also fills, and
// which Herald does not serve).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
