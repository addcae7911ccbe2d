package gateway

import "github.com/heraldhq/herald/gateway/protocol"

// Pusher error and close codes (docs/protocol.md, "Pusher compatibility";
// the page's tables list them for users). 4000-4099: do not reconnect;
// 4100-4199: reconnect after a back-off; 4200-4299: reconnect at once;
// 4300+: refused, connection kept.
const (
	CodeAppNotFound      = 4001
	CodeAppDisabled      = 4003
	CodeOverQuota        = 4004
	CodePathNotFound     = 4005
	CodeInvalidVersion   = 4006
	CodeUnsupportedProto = 4007
	CodeNoProtocol       = 4008
	CodeUnauthorized     = 4009
	CodeSlowConsumer     = 4100
	CodeReconnect        = 4200
	CodePongTimeout      = 4201
	CodeClientEventRate  = 4301
	// CodeBadMessage answers a malformed or unknown client event; the
	// connection is kept.
	CodeBadMessage = 4200
)

// Close codes as the WebSocket layer takes them.
const (
	CloseSlowConsumer uint16 = CodeSlowConsumer
	CloseReconnect    uint16 = CodeReconnect
	ClosePongTimeout  uint16 = CodePongTimeout
)

// errorFrame is a pusher:error event.
func errorFrame(code int, message string) []byte { return protocol.Error(code, message) }
