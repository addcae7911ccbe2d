package kvwatch

import (
	"context"

	"github.com/nats-io/nats.go"
)

// waitConnected returns once nc is connected, ErrConnClosed if it never
// will be, or ctx's error.
func waitConnected(ctx context.Context, nc *nats.Conn, status <-chan nats.Status) error {
	for {
		// Events queued before now are stale; the current status decides.
		for drained := false; !drained; {
			select {
			case <-status:
			default:
				drained = true
			}
		}
		switch {
		case nc.IsConnected():
			return nil
		case nc.IsClosed():
			return ErrConnClosed
		}
		select {
		case <-status:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
