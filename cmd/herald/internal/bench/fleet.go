package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// fleetDrainPoll is how often a draining step asks the workers for their
// count: each answer is a round trip through every worker's pipes.
const fleetDrainPoll = 50 * time.Millisecond

// SpawnFunc starts worker process index (`herald bench --worker`) and
// returns its standard input and output.
type SpawnFunc func(ctx context.Context, index int) (WorkerProcess, error)

// WorkerProcess is a running worker as its parent sees it.
type WorkerProcess struct {
	// In is the worker's standard input: the spec, then requests;
	// closing it ends the worker.
	In io.WriteCloser
	// Out is its standard output: one JSON reply per line.
	Out io.Reader
	// Wait waits for the worker's end, once In is closed.
	Wait func() error
}

// WorkerSpec is a worker's share of the subscribers, its first line of
// input.
type WorkerSpec struct {
	WSURLs             []string      `json:"ws_urls"`
	Key                string        `json:"key"`
	Subscribers        int           `json:"subscribers"`
	First              int           `json:"first"`
	Channels           int           `json:"channels"`
	ChannelPrefix      string        `json:"channel_prefix"`
	Event              string        `json:"event"`
	Sources            []netip.Addr  `json:"sources,omitempty"`
	ConnectConcurrency int           `json:"connect_concurrency"`
	ConnectTimeout     time.Duration `json:"connect_timeout_ns"`
}

// Requests a worker answers, one JSON object per line.
const (
	opBegin   = "begin"
	opCount   = "count"
	opCollect = "collect"
)

type workerRequest struct {
	Op   string `json:"op"`
	Step uint64 `json:"step,omitempty"`
}

// workerReply is a worker's answer: Connected once it has opened its
// subscribers, then one per request.
type workerReply struct {
	Connected *Connected `json:"connected,omitempty"`
	Delivered int64      `json:"delivered,omitempty"`
	Receipt   *Receipt   `json:"receipt,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// errWorker wraps what a worker reported as failed.
var errWorker = errors.New("bench worker")

// fleet is the audience of the subscribers held by worker processes: the
// parent asks each in turn and merges the answers, so that accounting
// stays per subscriber and latency quantiles come from one merged
// histogram.
type fleet struct {
	workers []*workerLink
}

type workerLink struct {
	proc WorkerProcess
	enc  *json.Encoder
	dec  *json.Decoder
}

// connectFleet starts the workers, gives each its share of the
// subscribers (and of Sources) and waits until every one has opened its
// share.
func (b *Bench) connectFleet(ctx context.Context) error {
	f := &fleet{}
	b.aud = f
	n, k := b.cfg.Subscribers, b.cfg.Workers
	sources := splitSources(b.cfg.Sources, k)
	for w := range k {
		first := w * n / k
		spec := WorkerSpec{
			WSURLs: b.wsBases(), Key: b.cfg.Key, Subscribers: (w+1)*n/k - first, First: first,
			Channels: b.cfg.Channels, ChannelPrefix: b.cfg.ChannelPrefix, Event: b.cfg.Event,
			Sources: sources[w], ConnectConcurrency: b.cfg.ConnectConcurrency, ConnectTimeout: b.cfg.ConnectTimeout,
		}
		p, err := b.cfg.SpawnWorker(ctx, w)
		if err != nil {
			return fmt.Errorf("start worker %d: %w", w, err)
		}
		l := &workerLink{proc: p, enc: json.NewEncoder(p.In), dec: json.NewDecoder(p.Out)}
		f.workers = append(f.workers, l)
		if err := l.enc.Encode(spec); err != nil {
			return fmt.Errorf("worker %d: %w", w, err)
		}
	}
	b.perChannel = make([]int64, b.cfg.Channels)
	var c Connected
	for w, l := range f.workers {
		r, err := l.read()
		if err != nil {
			return fmt.Errorf("worker %d: %w", w, err)
		}
		if r.Connected == nil {
			return fmt.Errorf("worker %d: %w: no connect report", w, errWorker)
		}
		c.Open += r.Connected.Open
		c.Failed += r.Connected.Failed
		if c.FirstError == "" {
			c.FirstError = r.Connected.FirstError
		}
		for ch, m := range r.Connected.PerChannel {
			if ch < len(b.perChannel) {
				b.perChannel[ch] += m
			}
		}
	}
	b.connected = c
	if c.Open == 0 {
		return fmt.Errorf("%w: no subscriber connected: %s", errWorker, c.FirstError)
	}
	return nil
}

// wsBases are the addresses the subscribers connect to.
func (b *Bench) wsBases() []string {
	if len(b.cfg.WSURLs) > 0 {
		return b.cfg.WSURLs
	}
	return []string{b.cfg.URL}
}

// read decodes the worker's next reply.
func (l *workerLink) read() (workerReply, error) {
	var r workerReply
	if err := l.dec.Decode(&r); err != nil {
		return r, fmt.Errorf("read: %w", err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("%w: %s", errWorker, r.Error)
	}
	return r, nil
}

// ask sends req to every worker, then reads every answer.
func (f *fleet) ask(req workerRequest) ([]workerReply, error) {
	for w, l := range f.workers {
		if err := l.enc.Encode(req); err != nil {
			return nil, fmt.Errorf("worker %d: %w", w, err)
		}
	}
	replies := make([]workerReply, len(f.workers))
	for w, l := range f.workers {
		r, err := l.read()
		if err != nil {
			return nil, fmt.Errorf("worker %d: %w", w, err)
		}
		replies[w] = r
	}
	return replies, nil
}

func (f *fleet) begin(_ context.Context, step uint64) error {
	_, err := f.ask(workerRequest{Op: opBegin, Step: step})
	return err
}

func (f *fleet) delivered(context.Context) (int64, error) {
	replies, err := f.ask(workerRequest{Op: opCount})
	var n int64
	for _, r := range replies {
		n += r.Delivered
	}
	return n, err
}

func (f *fleet) collect(context.Context) (Receipt, error) {
	replies, err := f.ask(workerRequest{Op: opCollect})
	if err != nil {
		return Receipt{}, err
	}
	var all Receipt
	var hist Histogram
	for w, r := range replies {
		if r.Receipt == nil {
			return Receipt{}, fmt.Errorf("worker %d: %w: no receipt", w, errWorker)
		}
		all.add(*r.Receipt)
		hist.Merge(r.Receipt.Latency)
	}
	all.Latency = hist.Snapshot()
	return all, nil
}

// close ends every worker (end of input) and waits for them.
func (f *fleet) close() error {
	var errs []error
	for _, l := range f.workers {
		errs = append(errs, l.proc.In.Close())
	}
	for _, l := range f.workers {
		if l.proc.Wait != nil {
			errs = append(errs, l.proc.Wait())
		}
	}
	f.workers = nil
	return errors.Join(errs...)
}

// splitSources gives each of k workers addresses of its own: contiguous
// shares when there are at least k, else one each, shared round robin.
func splitSources(srcs []netip.Addr, k int) [][]netip.Addr {
	out := make([][]netip.Addr, k)
	if len(srcs) == 0 {
		return out
	}
	for w := range out {
		if len(srcs) >= k {
			out[w] = srcs[w*len(srcs)/k : (w+1)*len(srcs)/k]
		} else {
			out[w] = []netip.Addr{srcs[w%len(srcs)]}
		}
	}
	return out
}
