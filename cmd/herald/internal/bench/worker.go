package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// ServeWorker is `herald bench --worker`, a process of a fleet (see
// Config.Workers): it reads its WorkerSpec from in, opens its
// subscribers, reports how that went on out, then answers its parent's
// requests, one JSON line each, until in ends.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, logger *slog.Logger) error {
	dec, enc := json.NewDecoder(in), json.NewEncoder(out)
	var spec WorkerSpec
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("read worker spec: %w", err)
	}
	b, err := New(spec.config(logger))
	if err != nil {
		_ = enc.Encode(workerReply{Error: err.Error()})
		return err
	}
	defer b.Close()
	b.tolerate = true
	if err := b.Connect(ctx, nil); err != nil {
		_ = enc.Encode(workerReply{Error: err.Error()})
		return err
	}
	c := b.Connected()
	if err := enc.Encode(workerReply{Connected: &c}); err != nil {
		return err
	}
	for {
		var req workerRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		if err := enc.Encode(b.answer(ctx, req)); err != nil {
			return err
		}
	}
}

// config is the Bench configuration of a worker.
func (s WorkerSpec) config(logger *slog.Logger) Config {
	c := Config{
		WSURLs: s.WSURLs, Key: s.Key, Subscribers: s.Subscribers, First: s.First,
		Channels: s.Channels, ChannelPrefix: s.ChannelPrefix, Event: s.Event, Sources: s.Sources,
		ConnectConcurrency: s.ConnectConcurrency, ConnectTimeout: s.ConnectTimeout, Logger: logger,
	}
	if len(s.WSURLs) > 0 {
		c.URL = s.WSURLs[0]
	}
	return c
}

// answer performs one request of the parent on the local subscribers.
func (b *Bench) answer(ctx context.Context, req workerRequest) workerReply {
	switch req.Op {
	case opBegin:
		b.step = req.Step
		if err := b.aud.begin(ctx, req.Step); err != nil {
			return workerReply{Error: err.Error()}
		}
		return workerReply{}
	case opCount:
		n, err := b.aud.delivered(ctx)
		if err != nil {
			return workerReply{Error: err.Error()}
		}
		return workerReply{Delivered: n}
	case opCollect:
		r, err := b.aud.collect(ctx)
		if err != nil {
			return workerReply{Error: err.Error()}
		}
		return workerReply{Receipt: &r}
	}
	return workerReply{Error: fmt.Sprintf("unknown request %q", req.Op)}
}
