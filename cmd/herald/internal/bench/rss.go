package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rssMetric is the server's resident memory in its /metrics, from
// Prometheus's process collector (Linux only).
const rssMetric = "process_resident_memory_bytes"

// ErrNoRSS is returned by ServerRSS when the server's /metrics has no
// resident memory figure (not on Linux, or not a Herald).
var ErrNoRSS = errors.New("bench: the server's /metrics has no " + rssMetric)

// ServerRSS reads the resident memory of the process serving the URL,
// in bytes, from its /metrics: what `--idle` divides by the connections
// it holds. It reads the process the URL reaches: through a load
// balancer, one of several.
func (b *Bench) ServerRSS(ctx context.Context) (int64, error) {
	var rss int64 = -1
	err := b.readMetrics(ctx, func(r io.Reader) error {
		v, err := parseRSS(r)
		rss = v
		return err
	})
	if err != nil {
		return 0, err
	}
	return rss, nil
}

// parseRSS finds rssMetric in a Prometheus text page.
func parseRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), rssMetric+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return 0, fmt.Errorf("bench: %s: %w", rssMetric, err)
		}
		return int64(f), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("bench: read /metrics: %w", err)
	}
	return 0, ErrNoRSS
}
