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
	// ErrNotSignedIn: a user channel needs SignIn first.
	ErrNotSignedIn = errors.New("realtime: not signed in")
)

// CloseError is a connection the server closed for good (4000–4099, or
// 4009 once a fresh token did not help): the client does not reconnect.
type CloseError struct {
	Code    int
	Message string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("realtime: closed by server with %d: %s", e.Code, e.Message)
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

// ServerError is a non-fatal pusher:error: the connection stays open.
type ServerError struct {
	Code    int
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("realtime: server error %d: %s", e.Code, e.Message)
}
