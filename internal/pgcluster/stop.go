package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Stop shuts the server down with a fast shutdown (clients disconnected,
// checkpoint written), falling back to an immediate one when that fails or
// takes longer than the Config's StopTimeout, and returns once no server
// process is left. ctx bounds the fast shutdown only: pass a live context,
// not the one whose cancellation asked for the shutdown, or Stop falls back
// at once to an immediate shutdown (safe, but the next start then replays
// the WAL). Calling it again does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	begin := time.Now()
	if err := c.shutdown(ctx); err != nil {
		return err
	}
	c.logger.Info("postgres stopped", "dir", c.layout.dir, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// shutdown stops whatever server runs on the data folder: fast, then
// immediate, then SIGKILL, and waits until no server process is left.
func (c *Cluster) shutdown(ctx context.Context) error {
	pid, _, err := runningPostmaster(c.layout)
	if err != nil {
		return err
	}
	if pid != 0 {
		fastErr := c.pgCtlStop(ctx, "fast", c.stopTimeout)
		if fastErr != nil {
			c.logger.Warn("postgres fast shutdown failed; shutting down immediately", "err", fastErr)
			// The caller's context may be what cut the fast shutdown short,
			// but the server must not be left running.
			if err := c.pgCtlStop(context.WithoutCancel(ctx), "immediate", killGrace); err != nil {
				c.logger.Warn("postgres immediate shutdown failed; killing it", "err", err)
			}
		}
	}
	if err := waitGone(context.WithoutCancel(ctx), c.layout); err != nil {
		return err
	}
	return removeStaleLocks(c.layout)
}

// pgCtlStop runs pg_ctl stop in mode, bounded by ctx and timeout.
func (c *Cluster) pgCtlStop(ctx context.Context, mode string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := c.run.run(ctx, "pg_ctl", "stop",
		"--pgdata="+c.layout.data,
		"--mode="+mode,
		"--wait",
		"--timeout="+strconv.Itoa(ceilSeconds(ctx)),
		"--silent")
	if err != nil {
		return fmt.Errorf("pgcluster: %s shutdown: %w", mode, errors.Join(err, ctx.Err()))
	}
	return nil
}
