// Package ops serves the operational endpoints every Herald process has:
// liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics).
package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultCheckTimeout bounds each readiness check so that /readyz answers
// promptly even when a dependency hangs.
const DefaultCheckTimeout = 2 * time.Second

// Check reports whether one dependency is usable; nil means ready.
type Check func(ctx context.Context) error

// Config configures Ops.
type Config struct {
	// CheckTimeout bounds each readiness check (default DefaultCheckTimeout).
	CheckTimeout time.Duration
}

// Ops owns the process's metrics registry and readiness checks.
type Ops struct {
	registry *prometheus.Registry
	timeout  time.Duration

	mu     sync.Mutex
	checks map[string]Check

	// shuttingDown turns /readyz to 503 for good, whatever the checks say.
	shuttingDown atomic.Bool
}

// shutdownCheck names the readiness entry of a process that is stopping.
const shutdownCheck = "shutdown"

// ShuttingDown makes /readyz answer 503 from now on: the process is
// stopping, so a load balancer must stop sending it new clients while it
// drains the ones it has. It is never undone.
func (o *Ops) ShuttingDown() { o.shuttingDown.Store(true) }

// New returns an Ops with a fresh registry holding the Go runtime and
// process collectors.
func New(cfg Config) *Ops {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := &Ops{registry: reg, timeout: cfg.CheckTimeout, checks: map[string]Check{}}
	reg.MustRegister(newReadinessCollector(o))
	return o
}

// Registry is where components register their metrics.
func (o *Ops) Registry() *prometheus.Registry { return o.registry }

// AddCheck adds a named readiness check. The process is ready only while
// every check passes.
func (o *Ops) AddCheck(name string, c Check) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checks[name] = c
}

// Register mounts /healthz, /readyz and /metrics on mux.
func (o *Ops) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", o.healthz)
	mux.HandleFunc("GET /readyz", o.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{Registry: o.registry}))
}

func (o *Ops) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

type checkResult struct {
	name string
	err  error
}

// Readiness runs every check concurrently and returns the failures by
// name; an empty map means ready.
func (o *Ops) Readiness(ctx context.Context) map[string]error {
	o.mu.Lock()
	checks := make(map[string]Check, len(o.checks))
	for k, v := range o.checks {
		checks[k] = v
	}
	o.mu.Unlock()

	results := make(chan checkResult, len(checks))
	for name, c := range checks {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, o.timeout)
			defer cancel()
			results <- checkResult{name, c(cctx)}
		}()
	}
	failed := map[string]error{}
	for range checks {
		r := <-results
		if r.err != nil {
			failed[r.name] = r.err
		}
	}
	return failed
}

func (o *Ops) readyz(w http.ResponseWriter, r *http.Request) {
	failed := o.Readiness(r.Context())
	names := o.checkNames()
	checks := make(map[string]string, len(names))
	for _, n := range names {
		checks[n] = "ok"
		if err := failed[n]; err != nil {
			checks[n] = err.Error()
		}
	}
	status, code := "ready", http.StatusOK
	if len(failed) > 0 {
		status, code = "not_ready", http.StatusServiceUnavailable
	}
	if o.shuttingDown.Load() {
		checks[shutdownCheck] = "shutting down"
		status, code = "shutting_down", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// checkNames are the checks' names, sorted.
func (o *Ops) checkNames() []string {
	o.mu.Lock()
	names := make([]string, 0, len(o.checks))
	for k := range o.checks {
		names = append(names, k)
	}
	o.mu.Unlock()
	sort.Strings(names)
	return names
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
