package billing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for zero FlusherConfig fields.
const (
	// DefaultFlushInterval is how often a process flushes its meter
	// (--meter-flush-interval): what a SIGKILLed gateway loses at most,
	// and half the delay before usage is readable.
	DefaultFlushInterval = 5 * time.Second
	// DefaultPublishTimeout bounds one attempt to publish a flush.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultMaxQueued bounds the flushes kept while NATS does not take
	// them (an hour of flushes at the default interval); past it the
	// deltas wait in the counters and go out with a later minute.
	DefaultMaxQueued = 720
)

// flushSourceIdle is how long a flusher goes without a flush before it
// starts a new source: a new boot nonce, with sequences from 1 again. The
// aggregator forgets how far a source is folded with the flush ids (twice
// the flush stream's retention, a day by default), so a source never
// outlives that record; and its flushes are then long folded, so the
// meter's unfolded records of it go (meter_unfolded.go).
const flushSourceIdle = time.Hour

// FlushMarksWindow is how recently a source must have had a flush folded
// for the quota totals to carry how far it is folded (quota.Entry.Flushes):
// a source with flushes not folded yet has flushed within flushSourceIdle,
// and the window leaves as much again for its last fold.
const FlushMarksWindow = 2 * flushSourceIdle

// flushID is the id of a source's flush seq: <source>.<seq>, the source
// being <process>.<boot nonce>.
func flushID(source string, seq uint64) string {
	return source + "." + strconv.FormatUint(seq, 10)
}

// ParseFlushID splits a flush id into its source and sequence; ok is false
// for an id not made by a Flusher.
func ParseFlushID(id string) (source string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || seq == 0 {
		return "", 0, false
	}
	return id[:i], seq, true
}

// Flush is one process's deltas over one interval, all within Minute: a
// flush never spans a minute boundary, so the aggregator adds it to the
// periods holding Minute. ID is unique per flush and never reused for
// other deltas: the aggregator folds an ID once.
type Flush struct {
	ID     string     `json:"id"`
	Minute time.Time  `json:"minute"`
	Apps   []AppUsage `json:"apps"`
}

// EncodeFlush is the one encoding of a flush on the bus.
func EncodeFlush(f Flush) ([]byte, error) { return json.Marshal(f) }

// DecodeFlush parses a flush written by EncodeFlush.
func DecodeFlush(data []byte) (Flush, error) {
	var f Flush
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode meter flush: %w", err)
	}
	if f.ID == "" || f.Minute.IsZero() {
		return f, errors.New("decode meter flush: no id or minute")
	}
	f.Minute = f.Minute.UTC()
	return f, nil
}

// PublishFunc stores a flush's payload on the bus under id, waiting for
// the acknowledgement (bus/meter.Publish).
type PublishFunc func(ctx context.Context, id string, payload []byte) error

// FlusherConfig configures a Flusher. Meter, Process and Publish are
// required.
type FlusherConfig struct {
	Meter *Meter
	// Process names the process in flush ids (its gateway or control
	// plane id); a random boot nonce is added to it.
	Process string
	Publish PublishFunc
	// Interval is --meter-flush-interval.
	Interval time.Duration
	// Sample returns an app's cluster-wide connection count given this
	// process's (peak_connections); nil counts this process's only.
	Sample         func(appID string, local int64) int64
	PublishTimeout time.Duration
	MaxQueued      int
	// Registerer receives the flusher's metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Flusher publishes a Meter's deltas every interval and on Close.
type Flusher struct {
	cfg FlusherConfig
	m   *flusherMetrics

	// mu serialises flushes: the loop's and the final one at shutdown.
	mu sync.Mutex
	// source names this flusher's flushes, and seq is its last flush's
	// sequence (from 1, without gaps: the aggregator tracks how far a
	// source is folded by them); lastFlush is when it was taken.
	source    string
	seq       uint64
	lastFlush time.Time
	// from is when the interval being counted started.
	from time.Time
	// queue holds flushes taken and not yet acknowledged, oldest first;
	// each keeps its id and payload until the stream acknowledges it.
	queue []queuedFlush
}

type queuedFlush struct {
	id      string
	payload []byte
}

// NewFlusher returns a Flusher; Run starts its loop.
func NewFlusher(cfg FlusherConfig) (*Flusher, error) {
	if cfg.Meter == nil || cfg.Process == "" || cfg.Publish == nil {
		return nil, errors.New("meter flusher: Meter, Process and Publish are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultFlushInterval
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Flusher{cfg: cfg, from: cfg.Meter.now()}
	if err := f.newSource(); err != nil {
		return nil, err
	}
	m, err := newFlusherMetrics(cfg.Registerer, cfg.Meter, f.queued)
	if err != nil {
		return nil, err
	}
	f.m = m
	return f, nil
}

// newSource starts a new source: the process with a new boot nonce,
// sequences from 1.
func (f *Flusher) newSource() error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("meter flusher: %w", err)
	}
	f.source, f.seq = f.cfg.Process+"."+hex.EncodeToString(b[:]), 0
	return nil
}

// nextFlush is when the interval that started at from ends: after
// interval, or at the next minute boundary if that comes first, so that
// no flush spans two minutes.
func nextFlush(from time.Time, interval time.Duration) time.Time {
	next, boundary := from.Add(interval), Minute.Next(Minute.Start(from))
	if boundary.Before(next) {
		return boundary
	}
	return next
}

// Run flushes every interval until ctx is done. The process calls Flush
// once more after its last count (Close).
func (f *Flusher) Run(ctx context.Context) {
	for {
		f.mu.Lock()
		wait := nextFlush(f.from, f.cfg.Interval).Sub(f.cfg.Meter.now())
		f.mu.Unlock()
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := f.Flush(ctx); err != nil && ctx.Err() == nil {
			f.cfg.Logger.Warn("meter flush failed; kept for the next attempt", "err", err)
		}
	}
}

// Flush takes the deltas counted since the last flush and publishes every
// flush not yet acknowledged, oldest first, each under its own id. A
// flush that fails stays queued, with the same id and payload, for the
// next attempt; the deltas counted meanwhile make later flushes.
func (f *Flusher) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.takeLocked() {
		// The queue was full: once it drained, the deltas kept in the
		// counters go out too.
		if err := f.drainLocked(ctx); err != nil {
			return err
		}
		f.takeLocked()
	}
	return f.drainLocked(ctx)
}

// drainLocked publishes the queued flushes, oldest first, until one
// fails. f.mu must be held.
func (f *Flusher) drainLocked(ctx context.Context) error {
	for len(f.queue) > 0 {
		q := f.queue[0]
		pctx, cancel := context.WithTimeout(ctx, f.cfg.PublishTimeout)
		err := f.cfg.Publish(pctx, q.id, q.payload)
		cancel()
		if err != nil {
			f.m.failures.Inc()
			return err
		}
		f.m.flushes.Inc()
		f.queue[0] = queuedFlush{}
		f.queue = f.queue[1:]
	}
	f.queue = nil
	return nil
}

// takeLocked swaps the meter's deltas into a new queued flush of the
// minute the interval started in; false means the queue is full and the
// deltas stay in the counters. f.mu must be held.
func (f *Flusher) takeLocked() bool {
	minute := Minute.Start(f.from)
	if len(f.queue) >= f.cfg.MaxQueued {
		// Keep the deltas counting: they go out, whole, once NATS takes
		// flushes again.
		return false
	}
	f.from = f.cfg.Meter.now()
	if f.seq > 0 && f.from.Sub(f.lastFlush) >= flushSourceIdle {
		if err := f.newSource(); err != nil {
			f.cfg.Logger.Error("meter flusher keeps its source", "err", err)
		} else {
			f.cfg.Meter.forgetUnfolded()
		}
	}
	tag := flushTag{source: f.source, seq: f.seq + 1, p: periodsOf(minute)}
	apps := f.cfg.Meter.take(f.cfg.Sample, tag)
	if len(apps) == 0 {
		return true
	}
	id := flushID(f.source, tag.seq)
	payload, err := EncodeFlush(Flush{ID: id, Minute: minute, Apps: apps})
	if err != nil {
		// Counters always encode; never lose them if they did not. The
		// sequence is not used: a source's sequences have no gaps.
		for _, a := range apps {
			f.cfg.Meter.App(a.AppID).giveBack(a.Counters, tag)
		}
		f.cfg.Logger.Error("meter flush not encoded", "err", err)
		return true
	}
	f.seq, f.lastFlush = tag.seq, f.from
	f.queue = append(f.queue, queuedFlush{id: id, payload: payload})
	return true
}

// queued is the number of flushes waiting for an acknowledgement.
func (f *Flusher) queued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}
