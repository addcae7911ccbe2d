package realtime

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on.
var (
	// ErrClosed: the client (or the subscription) was closed.
	ErrClosed = errors.New("realtime: closed")
	// ErrOutboxFull: Config.OutboxSize publishes already wait for their ack.
	ErrOutboxFull = errors.New("realtime: outbox full")
	// ErrSlowConsumer: a subscription's buffer of undelivered messages
	// filled up; the subscription was closed rather than skip messages.
	ErrSlowConsumer = errors.New("realtime: slow consumer")
	// ErrNotSignedIn: a user channel (#server-to-user-…) is joined by
	// SignIn, which signs the connection in first, not by Subscribe.
	ErrNotSignedIn = errors.New("realtime: not signed in")
	// ErrNotSubscribed: Publish or Trigger on a channel the client has not
	// subscribed to (or has left): subscribe first.
	ErrNotSubscribed = errors.New("realtime: not subscribed")
	// ErrNotAllowed: the channel does not take this publish or client
	// event. The client refuses what the server always refuses (any
	// publish on encrypted and user channels; on public channels without
	// a token); a *NackError with code 4009 matches it too.
	ErrNotAllowed = errors.New("realtime: not allowed")
	// ErrTerminated: the app ended the user's connections
	// (terminate_connections); a *CloseError with Reason ReasonTerminated
	// matches it. The client does not reconnect, not even with a fresh
	// token.
	ErrTerminated = errors.New("realtime: connection terminated by the application")
)

// ReasonTerminated is the reason (a Herald extension of pusher:error) of
// a connection the app terminated (docs/protocol.md, "Users and their
// connections").
const ReasonTerminated = "terminated"

// CloseError is a connection the server closed for good (4000–4099, 4009
// once a fresh token did not help, or a termination by the app): the
// client does not reconnect.
type CloseError struct {
	Code    int
	Message string
	// Reason is the server's machine-readable reason, when it gave one:
	// ReasonTerminated.
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("realtime: closed by server with %d: %s", e.Code, e.Message)
}

// Is matches ErrTerminated when the app terminated the connection.
func (e *CloseError) Is(target error) bool {
	return target == ErrTerminated && e.Reason == ReasonTerminated
}

// NackError is a publish the server refused (herald_internal:nack).
// Codes: 4009 not allowed, 4301 rate or quota, 4400 invalid, 4500 not
// stored (the client resends those until the deadline).
type NackError struct {
	ID      string
	Code    int
	Message string
}

func (e *NackError) Error() string {
	return fmt.Sprintf("realtime: publish %s refused with %d: %s", e.ID, e.Code, e.Message)
}

// Is matches ErrNotAllowed for a 4009 refusal (the connection may not
// publish on the channel).
func (e *NackError) Is(target error) bool {
	return target == ErrNotAllowed && e.Code == codeUnauthorized
}

// SubscriptionError is a refused subscribe (pusher:subscription_error),
// or an authorization that failed on the client's side (Type "AuthError").
type SubscriptionError struct {
	Channel string
	Type    string
	Message string
	Status  int
}

func (e *SubscriptionError) Error() string {
	return fmt.Sprintf("realtime: subscribe %s refused: %s %d: %s", e.Channel, e.Type, e.Status, e.Message)
}

// ServerError is a pusher:error: a non-fatal one (the connection stays
// open), or the one that came before a close.
type ServerError struct {
	Code    int
	Message string
	// Reason is Herald's machine-readable reason, when the server gave
	// one (ReasonTerminated).
	Reason string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("realtime: server error %d: %s", e.Code, e.Message)
}
