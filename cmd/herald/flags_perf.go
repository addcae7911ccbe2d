package main

import (
	"flag"

	"github.com/heraldhq/herald/internal/platform"
)

// bindPerfFlags declares the profiling flags of every server
// (docs/performance.md); both are off by default.
func bindPerfFlags(fs *flag.FlagSet, cfg *platform.Config) {
	fs.StringVar(&cfg.Perf.PprofAddr, "pprof-addr", "", "serve Go's profiler (/debug/pprof/, CPU profiles and execution traces) on this loopback address, e.g. 127.0.0.1:6060 (empty: off; any other address is refused)")
	fs.BoolVar(&cfg.Perf.TraceHops, "trace-hops", false, "time each hop of a REST publish's way to the sockets into herald_hop_duration_seconds (off: no time stamp taken; docs/performance.md)")
}
