package channels

// WireCode is a numeric error code on the realtime wire: the code of a
// pusher:error event, the WebSocket close code that follows a fatal one,
// or the code of a herald_internal:nack. Each value has one name, here;
// docs/protocol.md ("Vocabulary") lists them all, and a test in
// gateway/protocol fails when one is missing there.
type WireCode int

// Pusher's codes. Their ranges drive client retries: 4000-4099 do not
// reconnect; 4100-4199 reconnect after a back-off; 4200-4299 reconnect at
// once; 4300+ the request was refused and the connection is kept.
const (
	// PusherAppNotFound: the app key is unknown or revoked, or the app was
	// deleted.
	PusherAppNotFound WireCode = 4001
	// PusherAppDisabled: the app is disabled.
	PusherAppDisabled WireCode = 4003
	// PusherOverQuota: the app is over its max_connections, or its
	// account over its plan's.
	PusherOverQuota WireCode = 4004
	// PusherPathNotFound: the request path names nothing.
	PusherPathNotFound WireCode = 4005
	// PusherInvalidVersion: the protocol query parameter is not a number.
	PusherInvalidVersion WireCode = 4006
	// PusherUnsupportedProtocol: a protocol version other than 7.
	PusherUnsupportedProtocol WireCode = 4007
	// PusherNoProtocol: no protocol query parameter.
	PusherNoProtocol WireCode = 4008
	// PusherUnauthorized: a refused origin, sign-in, token, client event
	// or refresh (fatal or not, depending on the request).
	PusherUnauthorized WireCode = 4009
	// PusherOverCapacity: the gateway cannot serve this client now (a
	// slow consumer, or the app opens connections too fast): reconnect
	// after a back-off.
	PusherOverCapacity WireCode = 4100
	// PusherGeneric is Pusher's generic code. As a close code it asks the
	// client to reconnect at once (the gateway is shutting down); in a
	// non-fatal pusher:error it answers a malformed or refused message.
	PusherGeneric WireCode = 4200
	// PusherPongTimeout: the client did not answer pusher:ping in time.
	PusherPongTimeout WireCode = 4201
	// PusherClientEventLimit: a client event refused by a limit, the
	// connection kept: more client events per second than the app's
	// client_event_rate, or the account over its daily or monthly message
	// quota (the message names which). Also fatal, with a close: the
	// client's address failed to authenticate too often (auth-failure
	// throttling), and its credentials are refused unchecked.
	PusherClientEventLimit WireCode = 4301
)

// Herald's own codes, in herald_internal:nack (besides PusherUnauthorized
// and PusherClientEventLimit, which keep their Pusher meaning there).
const (
	// NackInvalid: the herald:publish was malformed or breaks a limit; a
	// resend as is fails again.
	NackInvalid WireCode = 4400
	// NackNotStored: the message could not be stored; resend it with the
	// same id.
	NackNotStored WireCode = 4500
)
