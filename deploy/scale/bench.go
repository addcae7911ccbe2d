package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// connected is herald bench's connect report (bench.Connected).
type connected struct {
	Open       int           `json:"open"`
	Failed     int           `json:"failed"`
	FirstError string        `json:"first_error"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Rate       float64       `json:"rate"`
}

// latency is a bench.Latency.
type latency struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// step is what the run reads of herald bench's step (bench.Step).
type step struct {
	Published      int64   `json:"published"`
	PublishRate    float64 `json:"publish_rate"`
	PublishErrors  int64   `json:"publish_errors"`
	PublishError   string  `json:"publish_error"`
	Expected       int64   `json:"expected"`
	Delivered      int64   `json:"delivered"`
	Lost           int64   `json:"lost"`
	Duplicates     int64   `json:"duplicates"`
	Unexpected     int64   `json:"unexpected"`
	DeliveryRate   float64 `json:"delivery_rate"`
	Subscribers    int     `json:"subscribers"`
	Latency        latency `json:"latency"`
	PublishLatency latency `json:"publish_latency"`
}

// result is one run.
type result struct {
	connected connected
	step      step
	usage     []usage
	host      hostCPU
	window    time.Duration
	// heraldBefore is the Herald processes' RSS before any connection.
	heraldBefore int64
}

// benchLine is one line of herald bench --json: the connect report, a
// step, or the best step (ignored).
type benchLine struct {
	Connected *connected `json:"connected"`
	Step      *int       `json:"step"`
}

// runBench runs herald bench against the fleet, sampling every process
// from the end of the connect to the step's result: the window.
func runBench(ctx context.Context, f *fleet, o options, stderr io.Writer) (result, error) {
	before := f.heraldRSS()
	cmd := exec.CommandContext(ctx, f.top.HeraldBin(), f.benchArgs(o)...)
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), o.env()...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("herald bench: %w", err)
	}
	fmt.Fprintf(stderr, "herald bench (pid %d): %d connections over %d gateways from %d workers …\n", cmd.Process.Pid, o.conns, o.gateways, o.workers)
	var (
		res     = result{heraldBefore: before}
		s       *sampler
		gotStep bool
	)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var l benchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		switch {
		case l.Connected != nil:
			res.connected = *l.Connected
			fmt.Fprintf(stderr, "connected %d (%d failed) in %s: %.0f/s; publishing for %s …\n",
				res.connected.Open, res.connected.Failed, res.connected.Elapsed.Round(time.Millisecond), res.connected.Rate, o.duration)
			s = startSampler(f, cmd.Process.Pid)
		case l.Step != nil && !gotStep:
			gotStep = true
			if err := json.Unmarshal(sc.Bytes(), &res.step); err != nil {
				return res, err
			}
			if s != nil {
				res.usage, res.host, res.window = s.stop()
				s = nil
			}
		}
	}
	if s != nil {
		s.stop()
	}
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("herald bench: %w", err)
	}
	if !gotStep {
		return res, fmt.Errorf("herald bench printed no step")
	}
	return res, nil
}
