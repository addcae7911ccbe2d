package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHopsOverAStep: the hop table is the difference between two scrapes
// of /metrics, and a server without hop metrics gives none.
func TestHopsOverAStep(t *testing.T) {
	pages := []string{
		`herald_hop_duration_seconds_bucket{hop="store",le="0.0001"} 5
herald_hop_duration_seconds_bucket{hop="store",le="0.001"} 5
herald_hop_duration_seconds_bucket{hop="store",le="+Inf"} 5
`,
		`herald_hop_duration_seconds_bucket{hop="store",le="0.0001"} 5
herald_hop_duration_seconds_bucket{hop="store",le="0.001"} 105
herald_hop_duration_seconds_bucket{hop="store",le="+Inf"} 105
`,
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(pages[min(int(n.Add(1))-1, len(pages)-1)]))
	}))
	defer srv.Close()
	b, err := New(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hops := b.hopsSince(ctx, b.scrapeHops(ctx))
	if len(hops) != 1 || hops[0].Hop != "store" || hops[0].Count != 100 {
		t.Fatalf("hops %+v, want store with 100 observations", hops)
	}
	// All 100 between 0.1 and 1 ms: the median is interpolated halfway.
	if p50 := hops[0].P50; p50 < 540*time.Microsecond || p50 > 560*time.Microsecond {
		t.Errorf("p50 %v, want 550µs", p50)
	}
	var out bytes.Buffer
	if err := NewPrinter(&out, false).printHops(hops); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "store") || !strings.Contains(out.String(), "550µs") {
		t.Errorf("hop table:\n%s", out.String())
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("go_goroutines 10\n"))
	}))
	defer plain.Close()
	b, err = New(Config{URL: plain.URL})
	if err != nil {
		t.Fatal(err)
	}
	if hops := b.hopsSince(ctx, b.scrapeHops(ctx)); len(hops) != 0 {
		t.Errorf("hops %+v from a server without hop metrics", hops)
	}
}
