package history

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
)

// SQLSTATE classes of errors about the rows themselves: writing the same
// rows again can never succeed (docs/nats.md,
// "Ack floor and the history watermark": a poison message must not stall the
// writer).
const (
	sqlClassDataException = "22"
	sqlClassIntegrity     = "23"
)

// store writes rows, retrying failures until it succeeds or ctx is done.
// held are the deliveries the rows come from; they are kept from being
// redelivered while the write lasts. A batch PostgreSQL refuses for its
// content is written again row by row, dropping only the rows it refuses.
func (w *Writer) store(ctx context.Context, rows []controlplane.HistoryMessage, held []jetstream.Msg) error {
	defer w.hold(held)()
	err := w.storeRetrying(ctx, rows)
	if !permanent(err) {
		return err
	}
	w.log.Warn("history batch refused; writing its messages one by one", "err", err)
	for i := range rows {
		err := w.storeRetrying(ctx, rows[i:i+1])
		if permanent(err) {
			w.m.skipped.WithLabelValues(skipMalformed).Inc()
			w.log.Warn("history skips a message the database refuses", "serial", rows[i].Serial, "err", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// storeRetrying writes rows until it succeeds, the database refuses them
// for good (a permanent error), or ctx is done.
func (w *Writer) storeRetrying(ctx context.Context, rows []controlplane.HistoryMessage) error {
	wait := w.cfg.RetryWait
	for attempt := 1; ; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
		n, err := w.cfg.Sink.WriteHistory(wctx, rows)
		cancel()
		if err == nil {
			w.written(rows, n)
			if attempt > 1 {
				w.log.Info("history write recovered", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.m.errors.WithLabelValues(opWrite).Inc()
		if permanent(err) {
			return err
		}
		if attempt == 1 || attempt%retryLogEvery == 0 {
			w.log.Warn("history write failed; retrying", "attempt", attempt, "messages", len(rows), "err", err)
		}
		if !backoff.Sleep(ctx, backoff.Jitter(wait)) {
			return ctx.Err()
		}
		wait = min(2*wait, w.cfg.MaxRetryWait)
	}
}

// written counts a committed write of rows, n of them new.
func (w *Writer) written(rows []controlplane.HistoryMessage, n int64) {
	w.m.written.Add(float64(n))
	w.m.duplicates.Add(float64(int64(len(rows)) - n))
	now := w.cfg.Now()
	for i := range rows {
		w.m.delay.Observe(now.Sub(rows[i].PublishedAt).Seconds())
	}
}

// hold tells JetStream that msgs are still being worked on, every third
// of the ack wait until the returned stop is called, so that neither a
// slow write nor a long database outage makes it deliver them again (to
// this writer or another). The ack wait itself stays short: it is how
// long the messages of a writer that died wait to be delivered again.
func (w *Writer) hold(msgs []jetstream.Msg) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(max(w.cfg.AckWait/holdsPerAckWait, minHoldInterval))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// holdsPerAckWait is how many times per ack wait a held batch is renewed:
// more than once, so that one late renewal does not lose the batch.
const holdsPerAckWait = 3

// minHoldInterval keeps the ticker valid whatever the ack wait.
const minHoldInterval = time.Millisecond

// permanent reports whether err is PostgreSQL refusing the rows
// themselves (bad data, a violated constraint) rather than a failure to
// reach or use the database.
func permanent(err error) bool {
	var pe interface{ SQLState() string }
	if err == nil || !errors.As(err, &pe) {
		return false
	}
	class := pe.SQLState()[:min(2, len(pe.SQLState()))]
	return class == sqlClassDataException || class == sqlClassIntegrity
}

// storable checks what PostgreSQL text columns need of a delivery: valid
// UTF-8 without NUL. Herald's publishers never produce anything else, but
// the stream does not enforce it.
func storable(d *stream.Delivery) error {
	for _, f := range []struct{ name, v string }{
		{"app id", d.AppID}, {"channel", d.Channel}, {"event", d.Event}, {"user id", d.UserID},
	} {
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return fmt.Errorf("serial %d: %s is not storable text", d.Serial, f.name)
		}
	}
	return nil
}
