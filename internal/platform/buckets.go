package platform

import (
	"context"
	"log/slog"
)

// ensureBucket runs create, which creates or updates a key-value bucket,
// with the retries start-up gives the streams (retryStartup): a young
// cluster answers the creation of a replicated bucket as late as that of
// a stream, and the first control plane and the first gateway starting at
// the same instant could time out creating the R3 presence buckets.
func ensureBucket[T any](ctx context.Context, log *slog.Logger, what string, create func(context.Context) (T, error)) (T, error) {
	var out T
	err := retryStartup(ctx, log, what, func(ctx context.Context) error {
		var err error
		out, err = create(ctx)
		return err
	})
	return out, err
}
