package occupancy

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
)

// inbox collects the replies to one request. It stands in for
// SubscribeSync, whose channel is sized for the connection's SubChanLen
// (64 Ki messages, half a megabyte) at every call; replies here are few,
// and an unbounded list never drops one.
type inbox struct {
	subject string
	sub     *nats.Subscription
	wake    chan struct{} // signalled after an append

	mu   sync.Mutex
	msgs []*nats.Msg
}

// newInbox subscribes a fresh inbox subject on nc. Call close when done.
func newInbox(nc *nats.Conn) (*inbox, error) {
	ib := &inbox{subject: nc.NewInbox(), wake: make(chan struct{}, 1)}
	sub, err := nc.Subscribe(ib.subject, func(m *nats.Msg) {
		ib.mu.Lock()
		ib.msgs = append(ib.msgs, m)
		ib.mu.Unlock()
		select {
		case ib.wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe inbox: %w", err)
	}
	ib.sub = sub
	return ib, nil
}

// next returns the next reply, nats.ErrNoResponders when the request
// reached nobody, or ctx's error.
func (ib *inbox) next(ctx context.Context) (*nats.Msg, error) {
	for {
		ib.mu.Lock()
		if len(ib.msgs) > 0 {
			m := ib.msgs[0]
			ib.msgs[0] = nil
			ib.msgs = ib.msgs[1:]
			ib.mu.Unlock()
			if directget.Status(m) == directget.StatusNoResponders {
				return nil, nats.ErrNoResponders
			}
			return m, nil
		}
		ib.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ib.wake:
		}
	}
}

func (ib *inbox) close() { _ = ib.sub.Unsubscribe() }
