package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
)

// runBenchWorker is `herald bench --worker`: one process of a fleet,
// driven by its parent over standard input and output.
func runBenchWorker(ctx context.Context, stderr io.Writer) int {
	if _, err := bench.RaiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "herald bench worker: %v\n", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := bench.ServeWorker(ctx, os.Stdin, os.Stdout, logger); err != nil {
		fmt.Fprintf(stderr, "herald bench worker %d: %v\n", os.Getpid(), err)
		return 1
	}
	return 0
}

// spawnBenchWorker starts this executable as `herald bench --worker`,
// its errors going to stderr.
func spawnBenchWorker(stderr io.Writer) bench.SpawnFunc {
	return func(ctx context.Context, _ int) (bench.WorkerProcess, error) {
		exe, err := os.Executable()
		if err != nil {
			return bench.WorkerProcess{}, err
		}
		cmd := exec.CommandContext(ctx, exe, "bench", workerArg)
		cmd.Stderr = stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return bench.WorkerProcess{}, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return bench.WorkerProcess{}, err
		}
		if err := cmd.Start(); err != nil {
			return bench.WorkerProcess{}, err
		}
		return bench.WorkerProcess{In: in, Out: out, Wait: cmd.Wait}, nil
	}
}

// printFleetConnected reports how the workers' connect went: a line on
// stderr, and with --json an object on stdout before the steps'.
func printFleetConnected(c bench.Connected, cfg bench.Config, jsonLines bool, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "%d of %d subscribers on %d channel(s) connected by %d workers in %s (%.0f/s), %d failed\n",
		c.Open, cfg.Subscribers, cfg.Channels, cfg.Workers, c.Elapsed.Round(time.Millisecond), c.Rate, c.Failed)
	if c.FirstError != "" {
		fmt.Fprintf(stderr, "  first connect error: %s\n", c.FirstError)
	}
	if !jsonLines {
		return nil
	}
	// The per-channel counts are the accounting's business, not the
	// report's.
	c.PerChannel = nil
	return json.NewEncoder(stdout).Encode(struct {
		Connected bench.Connected `json:"connected"`
		Workers   int             `json:"workers"`
	}{c, cfg.Workers})
}
