package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/hoptrace"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestTraceHops: with --trace-hops, a REST publish delivered to a
// subscriber is counted on every hop of herald_hop_duration_seconds, and
// --pprof-addr serves the profiler on its own loopback listener.
func TestTraceHops(t *testing.T) {
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Perf = platform.PerfConfig{TraceHops: true, PprofAddr: "127.0.0.1:0"}
	})
	p := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
	p.Subscribe("hops", "", "", "")
	testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, "e", `{}`, "hops")
	p.Expect("e", "hops")

	// The fan-out hop is recorded once the broadcast returns, which may
	// be just after the subscriber read the event.
	var hops map[string]hoptrace.Cumulative
	testinfra.WaitUntil(t, "every hop counted once", func() bool {
		hops = scrapeHops(t, h.URL())
		for _, hop := range hoptrace.Hops() {
			if hops[hop.String()].Count() != 1 {
				return false
			}
		}
		return true
	})
	for name, c := range hops {
		// One process, one clock: no hop takes a negative time, so none
		// lands below the first bucket unless it is truly that short.
		if q := c.Quantile(1); q <= 0 {
			t.Errorf("hop %s: max %v", name, q)
		}
	}

	addr := h.PprofAddr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("pprof address %q", addr)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("/debug/pprof/cmdline: %d %q", resp.StatusCode, body)
	}
	// The profiler is not on the public listener.
	resp2, err := http.Get(h.URL() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("public listener answered /debug/pprof/cmdline with %d", resp2.StatusCode)
	}
}

func scrapeHops(t *testing.T, url string) map[string]hoptrace.Cumulative {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	hops, err := hoptrace.ParseMetrics(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hops
}
