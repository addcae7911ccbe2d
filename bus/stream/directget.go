package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
)

// getBatch sends one batched Direct Get and passes each returned message
// to fn, as directget.Client.Get does, taking at most the Reader's
// Timeout. A reply whose headers do not parse is ErrMalformed here too.
func (r *Reader) getBatch(ctx context.Context, req directget.Request, fn func(*nats.Msg) bool) (pending uint64, err error) {
	pending, err = r.get.Get(ctx, req, fn)
	if errors.Is(err, directget.ErrMalformed) {
		return 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return pending, err
}
