package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// longEnv turns on the long versions (make chaos, make soak).
const longEnv = "HERALD_CHAOS_LONG"

// long reports whether the long versions run.
func long() bool { return os.Getenv(longEnv) == "1" }

// pick is short in make test, long under HERALD_CHAOS_LONG=1.
func pick[T any](short, lng T) T {
	if long() {
		return lng
	}
	return short
}

// tickEvent is the event the scenarios' publishers send.
const tickEvent = "tick"

// dialConcurrency is how many fleet clients dial at once while a fleet
// builds up (not during a storm, where every client dials at once).
const dialConcurrency = 64

// chaosTopology starts the topology with the gateways logging at info:
// debug lines for thousands of connections would cost more than the
// load under test.
func chaosTopology(t *testing.T, modify ...func(*topology.Options)) *topology.Topology {
	t.Helper()
	return testenv.Topology(t, append([]func(*topology.Options){func(o *topology.Options) {
		o.HeraldEnv = []string{"HERALD_LOG_LEVEL=info", "HERALD_LOG_FORMAT=json"}
	}}, modify...)...)
}

// newApp creates an app through the balancer and waits until every
// gateway knows its key.
func newApp(t *testing.T, top *topology.Topology, id string, settings map[string]any) topology.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout)
	defer cancel()
	app, err := top.CreateApp(ctx, id, settings)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.Sensitive(app.Secret)
	for i := range top.Count(topology.RoleGateway) {
		u := serverURL(t, top, topology.RoleGateway, i)
		testinfra.WaitUntil(t, "gateway knows the new key", func() bool {
			c, err := fleet.Dial(ctx, u, app.Key)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		})
	}
	return app
}

func serverURL(t *testing.T, top *topology.Topology, role topology.Role, i int) string {
	t.Helper()
	u, err := top.ServerURL(role, i)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// channelNames is n channel names.
func channelNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// stats reads role i's stats, failing the test on error.
func stats(t *testing.T, top *topology.Topology, role topology.Role, i int) topology.ProcStats {
	t.Helper()
	st, err := top.Stats(role, i)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sample is one reading of a process's stats during a run.
type sample struct {
	at time.Duration
	topology.ProcStats
	// cpuPct is the CPU used since the previous sample, in percent of
	// one core.
	cpuPct float64
}

// sampler reads a process's stats every interval until stopped.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	stop    context.CancelFunc
	done    chan struct{}
}

// startSampler samples role i every interval from now.
func startSampler(top *topology.Topology, role topology.Role, i int, interval time.Duration) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{stop: cancel, done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(s.done)
		var prev topology.ProcStats
		prevAt := time.Duration(0)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for first := true; ; first = false {
			// The time of the /proc read, which Stats does first: its
			// /metrics request may take a while during a storm.
			at := time.Since(start)
			st, err := top.Stats(role, i)
			if err == nil {
				smp := sample{at: at, ProcStats: st}
				if !first && at > prevAt {
					smp.cpuPct = 100 * float64(st.CPU-prev.CPU) / float64(at-prevAt)
				}
				s.mu.Lock()
				s.samples = append(s.samples, smp)
				s.mu.Unlock()
				prev, prevAt = st, at
			}
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

// finish stops the sampler and returns its samples.
func (s *sampler) finish() []sample {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// peak is the highest CPU percentage and RSS of samples.
func peak(samples []sample) (cpuPct float64, rss int64) {
	for _, s := range samples {
		cpuPct = max(cpuPct, s.cpuPct)
		rss = max(rss, s.RSS)
	}
	return cpuPct, rss
}

// mib writes bytes in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// load is the machine's load averages, noted beside the figures: the
// machine is shared.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// figures logs one line of a scenario's figures.
func figures(t *testing.T, scenario, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURES %s: "+format, append([]any{scenario}, args...)...)
}

// cpuProfile records the CPU of pid with perf for d, when perf is
// installed and allowed (the long versions only: perf needs the rights
// of pid's owner, and a symbolized report takes a while), and returns
// the report's top lines; "" when there is no profile.
func cpuProfile(ctx context.Context, t *testing.T, pid int, d time.Duration) string {
	t.Helper()
	perf, err := exec.LookPath("perf")
	if err != nil || !long() {
		return ""
	}
	data := t.TempDir() + "/perf.data"
	rec := exec.CommandContext(ctx, perf, "record", "-F", "499", "-g", "-o", data, "-p", fmt.Sprint(pid), "--", "sleep", fmt.Sprint(d.Seconds()))
	if out, err := rec.CombinedOutput(); err != nil {
		t.Logf("perf record: %v: %s", err, out)
		return ""
	}
	rep := exec.CommandContext(ctx, perf, "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", "--percent-limit", "1.5", "-g", "none")
	out, err := rep.Output()
	if err != nil {
		t.Logf("perf report: %v", err)
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
