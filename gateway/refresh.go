package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/authguard"
)

// Token lifecycle on an open connection (docs/protocol.md,
// "Token lifecycle"): TokenExpiryNotice before exp (at most half the
// token's lifetime before it) the keepalive scanner
// sends herald_internal:token_expiring; the client answers herald:refresh
// with a new token for the same app and user, and the gateway swaps it in.
// Without a valid refresh the connection closes with 4009 at exp: exp is
// exp, the 30 s leeway of channels.VerifyToken only absorbs clock skew when
// a token is presented.

// connToken is a connection's current token. A refresh replaces the whole
// value, which also resets the expiry notice.
type connToken struct {
	claims *channels.TokenClaims
	// accepted is when the gateway accepted the token (Unix ns); zero when
	// unknown, which leaves the notice at its configured lead.
	accepted int64
	// noticed is set once token_expiring went out for these claims.
	noticed atomic.Bool
}

// newConnToken is claims accepted at now.
func newConnToken(claims *channels.TokenClaims, now time.Time) *connToken {
	return &connToken{claims: claims, accepted: now.UnixNano()}
}

// noticeAt is when token_expiring is due (Unix ns): notice before exp, but
// never earlier than half the token's lifetime as this connection saw it.
// Without that bound a token shorter-lived than the notice would be inside
// the window as soon as it arrived, and each refresh would be answered by
// another notice at once: a refresh per keepalive tick.
func (t *connToken) noticeAt(notice time.Duration) int64 {
	exp := t.claims.ExpiresAt.UnixNano()
	lead := int64(notice)
	if t.accepted != 0 {
		lead = min(lead, (exp-t.accepted)/2)
	}
	return exp - lead
}

// refreshRequest is the data of herald:refresh.
type refreshRequest struct {
	Token string `json:"token"`
}

// tokenEvent is a herald_internal event whose data is
// {"expires_at":"<RFC 3339>"}, encoded as a JSON string like every
// Pusher event's data.
func tokenEvent(event string, t *channels.TokenClaims) []byte {
	d := append([]byte(`{"expires_at":`), protocol.AppendString(nil, t.ExpiresAt.UTC().Format(time.RFC3339))...)
	d = append(d, '}')
	return protocol.AppendMessage(nil, &protocol.Message{Event: event, Data: string(d)})
}

// handleRefresh swaps the connection's token for a new one, verified as
// at connect. A refused refresh is answered with a non-fatal 4009 and
// leaves the old token in place (it still expires). Refreshes spend the
// client-event rate, which bounds the verification work a client causes.
func (c *conn) handleRefresh(app *channels.AppConfig, f *protocol.Frame) {
	cur := c.token.Load()
	if cur == nil {
		// Upgrading a signature connection would mix two authorities over
		// the channels it already joined: connect with a token instead.
		c.sendError(channels.PusherUnauthorized, protocol.EventRefresh+" needs a connection opened with a token")
		return
	}
	now := c.gw.cfg.Now()
	if !now.Before(cur.claims.ExpiresAt.Time) {
		c.fail(channels.PusherUnauthorized, "token expired")
		return
	}
	if !c.takeToken(app.Settings.ClientEventRate) {
		c.gw.metrics.clientEventsLimited.Inc()
		c.sendError(channels.PusherClientEventLimit, fmt.Sprintf("refresh rejected: more than %d client messages per second", app.Settings.ClientEventRate))
		return
	}
	var req refreshRequest
	if err := f.DecodeData(&req); err != nil {
		c.sendError(channels.PusherGeneric, protocol.EventRefresh+" needs data with a token")
		return
	}
	if req.Token != "" && c.authThrottled(authguard.KindToken) {
		return
	}
	next, err := c.gw.verifyConnToken(app, req.Token)
	switch {
	case err != nil:
		if req.Token != "" {
			c.authFailed(authguard.KindToken)
		}
		c.sendError(channels.PusherUnauthorized, "refresh refused: "+err.Error())
		return
	case !now.Before(next.ExpiresAt.Time):
		c.sendError(channels.PusherUnauthorized, "refresh refused: invalid token: expired")
		return
	case next.Subject != cur.claims.Subject:
		// Presence memberships and the user channel belong to the sub.
		c.sendError(channels.PusherUnauthorized, "refresh refused: the token is for another user (sub)")
		return
	}
	// Only this connection's reader swaps the token, one frame at a time,
	// so cur is still the current value.
	c.token.Store(newConnToken(next, now))
	c.send(tokenEvent(protocol.EventTokenRefreshed, next))
	c.dropDisallowed(next)
}

// dropDisallowed unsubscribes the connection from every channel token t
// no longer allows, as a pusher:unsubscribe would (a presence member
// leaves), then tells the client with a Forbidden subscription_error.
// The error goes out after the channel was left, so nothing published on
// it follows the error.
func (c *conn) dropDisallowed(t *channels.TokenClaims) {
	c.mu.Lock()
	dropped := c.subs.removeIf(func(sub *subscription) bool { return !tokenAllows(t, sub.ch) })
	c.mu.Unlock()
	slices.SortFunc(dropped, func(a, b *subscription) int { return strings.Compare(a.ch.Name, b.ch.Name) })
	for _, sub := range dropped {
		c.gw.leaveChannel(c, sub)
		c.gw.metrics.subscriptions.Dec()
		c.subError(sub.ch.Name, protocol.SubErrForbidden, "the refreshed token does not allow this channel", http.StatusForbidden)
	}
}

// checkToken is the keepalive scanner's token step for one connection at
// now (Unix ns): it closes a connection whose token expired with 4009 and
// sends token_expiring once when it is due (connToken.noticeAt).
func (c *conn) checkToken(now int64, notice time.Duration) {
	t := c.token.Load()
	if t == nil {
		return
	}
	exp := t.claims.ExpiresAt.UnixNano()
	switch {
	case now > exp:
		// A refresh may have landed since the load.
		if c.token.Load() == t {
			c.fail(channels.PusherUnauthorized, "token expired")
		}
	case c.sink.protocolEvents() && now >= t.noticeAt(notice) && t.noticed.CompareAndSwap(false, true):
		c.send(tokenEvent(protocol.EventTokenExpiring, t.claims))
	}
}
