package gateway

import (
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// TestSSEErrorKeepsTheWebSocketsData: an SSE stream's last pusher:error
// carries what a WebSocket's would, extensions included.
func TestSSEErrorKeepsTheWebSocketsData(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"terminated", terminateError(),
			"event: pusher:error\ndata: {\"code\":4009,\"message\":\"connection terminated by the application\",\"reason\":\"terminated\"}\n\n"},
		{"plain error", protocol.Error(channels.PusherUnauthorized, "token expired"),
			"event: pusher:error\ndata: {\"code\":4009,\"message\":\"token expired\"}\n\n"},
		{"not a pusher:error", []byte("junk"),
			"event: pusher:error\ndata: {\"code\":4009,\"message\":\"why\"}\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(sseError(tc.payload, uint16(channels.PusherUnauthorized), "why")); got != tc.want {
				t.Fatalf("sseError = %q, want %q", got, tc.want)
			}
		})
	}
}
