package presence

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// asyncChunk bounds how many asynchronous publishes are in flight at once
// (below nats.go's default of 4000 pending, so publishes never stall).
const asyncChunk = 256

// errAckTimeout is a write whose acknowledgement never came.
var errAckTimeout = errors.New("no acknowledgement")

// pubResult is the outcome of one message of publishBatch.
type pubResult struct {
	seq uint64
	err error
}

// publishBatch publishes msgs asynchronously, asyncChunk at a time, and
// returns one result per message, in order. A chunk whose acks do not
// come within requestTimeout fails with errAckTimeout.
func (p *Presence) publishBatch(ctx context.Context, msgs []*nats.Msg) []pubResult {
	out := make([]pubResult, len(msgs))
	for start := 0; start < len(msgs); start += asyncChunk {
		end := min(start+asyncChunk, len(msgs))
		p.publishChunk(ctx, msgs[start:end], out[start:end])
	}
	return out
}

func (p *Presence) publishChunk(ctx context.Context, msgs []*nats.Msg, out []pubResult) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	futures := make([]func() pubResult, len(msgs))
	for i, m := range msgs {
		f, err := p.js.PublishMsgAsync(m)
		if err != nil {
			out[i] = pubResult{err: err}
			continue
		}
		futures[i] = func() pubResult {
			select {
			case ack := <-f.Ok():
				return pubResult{seq: ack.Sequence}
			case err := <-f.Err():
				return pubResult{err: err}
			case <-ctx.Done():
				return pubResult{err: fmt.Errorf("%w: %w", errAckTimeout, ctx.Err())}
			}
		}
	}
	for i, wait := range futures {
		if wait != nil {
			out[i] = wait()
		}
	}
}
