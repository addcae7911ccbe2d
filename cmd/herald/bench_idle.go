package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
)

// idleReportEvery is how often `herald bench --idle` reports the server's
// memory: right after a connect burst the server still holds the
// handshakes' garbage and its goroutine stacks, so the figure that counts
// is the one that has settled.
const idleReportEvery = 10 * time.Second

// holdIdle holds the subscribers for hold (0: until ctx is done),
// reporting the server's resident memory and what each connection adds
// to it since rssBefore (0: unknown).
func holdIdle(ctx context.Context, b *bench.Bench, hold time.Duration, rssBefore int64, stderr io.Writer) {
	if hold > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hold)
		defer cancel()
		fmt.Fprintf(stderr, "holding them for %s (pid %d)\n", hold, os.Getpid())
	} else {
		fmt.Fprintf(stderr, "holding them (pid %d); interrupt to stop\n", os.Getpid())
	}
	t := time.NewTicker(idleReportEvery)
	defer t.Stop()
	report := func(when string) {
		// Not cut short by the hold's end, which may come mid-read.
		rss := idleRSS(context.WithoutCancel(ctx), b, stderr, when)
		if open := b.Open(); rss > 0 && rssBefore > 0 && open > 0 {
			fmt.Fprintf(stderr, "  %.2f KiB per connection (%d open)\n", float64(rss-rssBefore)/1024/float64(open), open)
		}
	}
	report("after connecting")
	for {
		select {
		case <-ctx.Done():
			report("at the end")
			return
		case <-t.C:
			report("held")
		}
	}
}

// idleRSS reads and prints the server's resident memory; 0 if unknown.
func idleRSS(ctx context.Context, b *bench.Bench, stderr io.Writer, when string) int64 {
	rss, err := b.ServerRSS(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "server RSS %s: unknown (%v)\n", when, err)
		return 0
	}
	fmt.Fprintf(stderr, "server RSS %s: %.1f MiB\n", when, float64(rss)/(1<<20))
	return rss
}
