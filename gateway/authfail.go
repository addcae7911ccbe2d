package gateway

import (
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/authguard"
)

// Auth-failure throttling (docs/security.md, "Auth-failure throttling"):
// refused tokens and channel or sign-in signatures count against the
// client's address in Config.AuthGuard. An address over the limit has
// its next credentials refused unchecked: an HTTP request (SSE) with 429
// and Retry-After, a WebSocket with pusher:error 4301 and close 4301
// (PusherClientEventLimit, Pusher's rate-limit code; as a close code
// pusher-js does not reconnect on it). What carries no credentials (a
// public channel, a connection without a token) is never refused by it.

// authThrottled reports whether c's address must wait before presenting
// credentials of kind again; if so it has closed the connection with
// 4301.
func (c *conn) authThrottled(kind authguard.Kind) bool {
	wait := c.gw.cfg.AuthGuard.Throttled(c.client, kind)
	if wait == 0 {
		return false
	}
	c.fail(channels.PusherClientEventLimit, authguard.Message(wait))
	return true
}

// authFailed counts a refused credential of kind presented by c.
func (c *conn) authFailed(kind authguard.Kind) {
	c.gw.cfg.AuthGuard.Failed(c.client, kind)
}
