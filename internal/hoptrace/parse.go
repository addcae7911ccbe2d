package hoptrace

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// maxScrapeLine bounds one line of a /metrics page read by ParseMetrics.
const maxScrapeLine = 1 << 20

// ParseMetrics reads the herald_hop_duration_seconds buckets from a
// Prometheus text exposition (a /metrics page), by hop name. A page
// without them, a server started without --trace-hops, gives an empty
// map.
func ParseMetrics(r io.Reader) (map[string]Cumulative, error) {
	type bucket struct {
		le    float64
		count uint64
	}
	byHop := map[string][]bucket{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxScrapeLine)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), MetricName+"_bucket{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			return nil, fmt.Errorf("parse hop metrics: malformed line %q", sc.Text())
		}
		hop, le := label(labels, "hop"), label(labels, "le")
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return nil, fmt.Errorf("parse hop metrics: bucket bound %q: %w", le, err)
		}
		count, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || count < 0 {
			return nil, fmt.Errorf("parse hop metrics: count %q", value)
		}
		byHop[hop] = append(byHop[hop], bucket{bound, uint64(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse hop metrics: %w", err)
	}
	out := make(map[string]Cumulative, len(byHop))
	for hop, bs := range byHop {
		slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
		c := Cumulative{Bounds: make([]float64, len(bs)), Counts: make([]uint64, len(bs))}
		for i, b := range bs {
			c.Bounds[i], c.Counts[i] = b.le, b.count
		}
		out[hop] = c
	}
	return out, nil
}

// label returns the value of name in a Prometheus label list
// (a="x",b="y"); the values Herald exports hold no quotes or commas.
func label(labels, name string) string {
	for kv := range strings.SplitSeq(labels, ",") {
		if v, ok := strings.CutPrefix(kv, name+`="`); ok {
			return strings.TrimSuffix(v, `"`)
		}
	}
	return ""
}
