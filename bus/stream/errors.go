package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
)

// Errors callers branch on. ErrUnavailable and ErrTooLarge are
// channels.Error values, so channels.DispositionOf maps them to 503 and
// 413 without help; invalid messages are channels.BadRequest errors.
var (
	// ErrUnavailable means NATS or the message stream could not be reached
	// in time (no responders, timeouts, a leader election that outlasted
	// the retries, a closed connection).
	ErrUnavailable = &channels.Error{Code: channels.CodeUnavailable, Message: "message stream unavailable"}
	// ErrTooLarge means the stream refused a message over its MaxMsgSize.
	ErrTooLarge = &channels.Error{Code: channels.CodeTooLarge, Message: "message too large"}
	// ErrStoreFull means JetStream refused the message for want of
	// storage (the servers' max_file_store or their disk is full): a 503
	// like any outage, so that clients retry later, with a message that
	// says which. It is not retried within the call: space comes back as
	// messages age out or an operator adds some, not in milliseconds.
	ErrStoreFull = &channels.Error{Code: channels.CodeUnavailable, Message: "message store full; try again later"}
	// ErrGapUnrecoverable means a read that had to reach a known serial
	// ended below it, even after retries: the messages expired, were
	// deleted, or the replicas that answered are too far behind.
	ErrGapUnrecoverable = errors.New("gap unrecoverable")
	// ErrClosed is returned by Live.Subscribe after Run has returned.
	ErrClosed = errors.New("live delivery closed")
	// ErrCountStalled means a count's fetch came back empty before the
	// consumer had delivered every pending message.
	ErrCountStalled = errors.New("stream count stalled")
)

// JetStream API error codes and statuses this package reacts to.
const (
	apiCodeUnavailable = 503
	errCodeMsgTooLarge = jetstream.JSErrCodeStreamMessageExceedsMaximum
	// errCodeInsufficientResources is the server's refusal of a message
	// when its JetStream storage is over its limit (nats-server's
	// JSInsufficientResourcesErr; nats.go names no constant for it).
	errCodeInsufficientResources jetstream.ErrorCode = 10023
)

// storeFull reports whether err is JetStream's refusal for want of
// storage.
func storeFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeInsufficientResources
}

// retryable reports whether an attempt may succeed if repeated soon:
// leader elections show up as no responders, lost acks as timeouts, and a
// cluster without quorum as API errors with code 503. Publishing again is
// safe because every message carries a Nats-Msg-Id.
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case storeFull(err):
		return false
	case errors.As(err, &apiErr):
		return apiErr.Code == apiCodeUnavailable
	case errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// unavailable reports whether err means NATS cannot serve us now.
func unavailable(err error) bool {
	return retryable(err) ||
		errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrConnectionDraining) ||
		errors.Is(err, nats.ErrInvalidConnection)
}

// classify wraps err with the sentinel a caller branches on, when one
// applies.
func classify(err error) error {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeMsgTooLarge:
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case storeFull(err):
		return fmt.Errorf("%w: %w", ErrStoreFull, err)
	case unavailable(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
