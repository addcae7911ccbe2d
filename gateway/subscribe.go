package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/authguard"
)

// Limits of a subscription (docs/protocol.md, "Pusher compatibility").
const (
	// MaxUserIDLen is the longest presence or sign-in user id.
	MaxUserIDLen = channels.MaxUserIDLen
	// DefaultMaxSubscriptions bounds the channels one connection may join,
	// so that a client flooding subscribe requests cannot exhaust memory.
	DefaultMaxSubscriptions = 1000
)

// subError answers a refused subscribe.
func (c *conn) subError(channel, typ, message string, status int) {
	c.debugSubError(channel, message, status)
	c.send(protocol.SubscriptionError(channel, typ, message, status))
}

func (c *conn) handleSubscribe(app *channels.AppConfig, f *protocol.Frame) {
	var req protocol.Subscribe
	if err := f.DecodeData(&req); err != nil {
		c.sendError(channels.PusherGeneric, protocol.EventSubscribe+" needs data with a channel")
		return
	}
	ch, err := channels.ParseChannel(req.Channel)
	if err != nil {
		c.subError(truncate(req.Channel, channels.MaxChannelNameLen), protocol.SubErrInvalidChannel, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	joined := c.subs.get(ch.Name)
	n := c.subs.len()
	user := c.user
	c.mu.Unlock()
	if joined != nil {
		// Idempotent: confirm again without joining twice; a presence
		// answer carries the roster, which clients read from it.
		c.send(protocol.SubscriptionSucceeded(ch.Name, c.gw.subscribedData(app.ID, joined)))
		return
	}
	if n >= DefaultMaxSubscriptions {
		c.subError(ch.Name, protocol.SubErrLimitReached, fmt.Sprintf("a connection may join at most %d channels", DefaultMaxSubscriptions), http.StatusForbidden)
		return
	}

	plan, msg := planReplay(&req)
	if msg != "" {
		c.subError(ch.Name, protocol.SubErrInvalidChannel, msg, http.StatusBadRequest)
		return
	}
	// Live frames wait while history or the cached event is read (see
	// replay and replayCache).
	sub := &subscription{ch: ch, replaying: plan.any() || ch.Cache}
	var member presence.Member
	if t := c.claims(); t != nil {
		// A token's capabilities replace signatures; any auth is ignored.
		m, ok := tokenAllowsSubscribe(t, ch, sub)
		if !ok {
			c.subError(ch.Name, protocol.SubErrForbidden, "the token does not allow this channel", http.StatusForbidden)
			return
		}
		member = m
	} else {
		m, ok := c.signatureAllowsSubscribe(app, ch, sub, &req, user)
		if !ok {
			return
		}
		member = m
	}

	cs, err := c.gw.joinChannel(c, app.ID, ch, sub)
	if err != nil {
		c.gw.cfg.Logger.Warn("subscribe failed", "app", app.ID, "err", err)
		c.subError(ch.Name, protocol.SubErrLimitReached, "subscription temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	data := protocol.EmptyObject
	if sub.presence {
		roster := cs.rosterRef()
		// The roster checks the limit and reserves the place in one
		// step, so concurrent joins on this gateway cannot exceed it.
		ctx, cancel := context.WithTimeout(context.Background(), c.gw.cfg.PublishTimeout)
		err := roster.Join(ctx, c.socketID, member, app.Settings.MaxPresenceMembers)
		cancel()
		if errors.Is(err, presence.ErrFull) {
			c.gw.leaveChannel(c, sub)
			c.subError(ch.Name, protocol.SubErrLimitReached, fmt.Sprintf("presence channel is full (%d members)", app.Settings.MaxPresenceMembers), http.StatusForbidden)
			return
		}
		if err != nil {
			c.gw.leaveChannel(c, sub)
			c.gw.cfg.Logger.Warn("presence join failed", "app", app.ID, "err", err)
			c.subError(ch.Name, protocol.SubErrLimitReached, "presence temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		data = rosterJSON(roster.Members())
		c.debugMember(channels.DebugMemberAdded, ch.Name, member.UserID)
	}
	c.addSubscription(sub)
	c.send(protocol.SubscriptionSucceeded(ch.Name, data))
	if ch.Cache {
		c.gw.replayCache(c, sub, plan.any())
	}
	if plan.any() {
		c.gw.startReplay(c, app, sub, plan)
	}
}

func (c *conn) handleUnsubscribe(f *protocol.Frame) {
	var req protocol.Unsubscribe
	if err := f.DecodeData(&req); err != nil {
		c.sendError(channels.PusherGeneric, protocol.EventUnsubscribe+" needs data with a channel")
		return
	}
	c.mu.Lock()
	sub := c.subs.remove(req.Channel)
	c.mu.Unlock()
	if sub != nil {
		c.debugSub(channels.DebugUnsubscribed, sub.ch.Name)
		c.gw.leaveChannel(c, sub)
		c.gw.metrics.subscriptions.Dec()
	}
}

// verifyAuth checks an "app-key:signature" auth value against any live key
// of the app.
func (g *Gateway) verifyAuth(app *channels.AppConfig, auth, message string) bool {
	key, sig, ok := channels.SplitAuth(auth)
	if !ok {
		return false
	}
	k, ok := app.Key(key)
	if !ok {
		return false
	}
	secret, err := g.cfg.Box.Open(k.SealedSecret, channels.SecretAAD(app.ID, key))
	if err != nil {
		g.cfg.Logger.Error("cannot open app key secret: is the master key the control plane's?", "app", app.ID, "key", key)
		return false
	}
	return channels.VerifyAuth(string(secret), message, sig)
}

// channelAuthOK checks a subscribe's auth as verifyAuth does, through the
// auth guard: a wrong signature counts against the client's address, and
// an address over the limit is closed with 4301 unchecked (then the
// caller's refusal goes nowhere). An empty auth guesses nothing and is
// not counted.
func (c *conn) channelAuthOK(app *channels.AppConfig, auth, message string) bool {
	if auth == "" {
		return false
	}
	if c.authThrottled(authguard.KindChannelAuth) {
		return false
	}
	if !c.gw.verifyAuth(app, auth, message) {
		c.authFailed(authguard.KindChannelAuth)
		return false
	}
	return true
}

// subscribedData is the data of the subscription_succeeded that answers
// a subscribe to a channel the connection already joined: the current
// roster on a presence channel, as for the first subscribe.
func (g *Gateway) subscribedData(appID string, sub *subscription) string {
	if !sub.presence {
		return protocol.EmptyObject
	}
	// A joined presence channel has its roster open; should it not, an
	// empty roster still parses in pusher-js.
	var members []presence.Member
	if cs := g.hub.get(chanKey{app: appID, name: sub.ch.Name}); cs != nil {
		if r := cs.rosterRef(); r != nil {
			members = r.Members()
		}
	}
	return rosterJSON(members)
}

// rosterJSON is the data of a presence subscription_succeeded.
func rosterJSON(members []presence.Member) string {
	type roster struct {
		IDs   []string                   `json:"ids"`
		Hash  map[string]json.RawMessage `json:"hash"`
		Count int                        `json:"count"`
	}
	r := roster{IDs: make([]string, 0, len(members)), Hash: make(map[string]json.RawMessage, len(members))}
	for _, m := range members {
		r.IDs = append(r.IDs, m.UserID)
		info := m.UserInfo
		if len(info) == 0 {
			info = json.RawMessage("null")
		}
		r.Hash[m.UserID] = info
	}
	r.Count = len(r.IDs)
	b, _ := json.Marshal(map[string]roster{"presence": r})
	return string(b)
}

// signatureAllowsSubscribe checks a subscribe by Pusher signature (and
// sign-in for user channels); on refusal it has answered the client.
func (c *conn) signatureAllowsSubscribe(app *channels.AppConfig, ch channels.Channel, sub *subscription, req *protocol.Subscribe, user *signedInUser) (presence.Member, bool) {
	var member presence.Member
	switch ch.Kind {
	case channels.KindPrivate, channels.KindPrivateEncrypted:
		if !c.channelAuthOK(app, string(req.Auth), channels.ChannelStringToSign(c.socketID, ch.Name, "")) {
			c.subError(ch.Name, protocol.SubErrAuth, authRefusal(string(req.Auth), c.socketID, ch.Name, false), http.StatusUnauthorized)
			return member, false
		}
	case channels.KindPresence:
		data := string(req.ChannelData)
		if !c.channelAuthOK(app, string(req.Auth), channels.ChannelStringToSign(c.socketID, ch.Name, data)) {
			c.subError(ch.Name, protocol.SubErrAuth, authRefusal(string(req.Auth), c.socketID, ch.Name, true), http.StatusUnauthorized)
			return member, false
		}
		pd, err := protocol.ParsePresenceData(data)
		if errors.Is(err, channels.ErrUserIDTooLong) {
			c.subError(ch.Name, protocol.SubErrLimitReached, fmt.Sprintf("user_id is longer than %d characters", MaxUserIDLen), http.StatusRequestEntityTooLarge)
			return member, false
		}
		if err != nil {
			c.subError(ch.Name, protocol.SubErrAuth, "channel_data must be a JSON object with a user_id (a non-empty string or an integer)", http.StatusBadRequest)
			return member, false
		}
		if len(pd.UserInfo) > app.Settings.MaxPresenceUserInfoBytes {
			c.subError(ch.Name, protocol.SubErrLimitReached, fmt.Sprintf("user_info is larger than %d bytes", app.Settings.MaxPresenceUserInfoBytes), http.StatusRequestEntityTooLarge)
			return member, false
		}
		sub.presence, sub.userID = true, pd.UserID
		member = presence.Member{UserID: pd.UserID, UserInfo: pd.UserInfo}
	case channels.KindUser:
		if user == nil || user.id != ch.UserID() {
			c.subError(ch.Name, protocol.SubErrForbidden, "only the signed-in user may join their user channel", http.StatusForbidden)
			return member, false
		}
	}
	return member, true
}

// authRefusal is the message of a refused channel signature. It tells a
// missing auth from a wrong one and says what the signature covers, with
// the socket id and channel filled in (neither is secret), since a client
// author's usual mistake is signing something else or forgetting the
// auth endpoint altogether.
func authRefusal(auth, socketID, channel string, presence bool) string {
	what := "the auth signature is invalid"
	if auth == "" {
		what = "the auth signature is missing"
	}
	form, here := "<socket_id>:<channel>", fmt.Sprintf("%q", channels.ChannelStringToSign(socketID, channel, ""))
	if presence {
		form = "<socket_id>:<channel>:<channel_data>"
		here = fmt.Sprintf("%q and channel_data exactly as sent", socketID+":"+channel+":")
	}
	return fmt.Sprintf(`%s: "auth" must be "<app key>:<signature>", the signature being the hex HMAC-SHA256 of "%s" (here %s) with the app secret`,
		what, form, here)
}

// tokenAllowsSubscribe checks a subscribe against the connection's token
// t (see tokenAllows); on a presence channel the member is the token's
// sub and user_info.
func tokenAllowsSubscribe(t *channels.TokenClaims, ch channels.Channel, sub *subscription) (presence.Member, bool) {
	if !tokenAllows(t, ch) {
		return presence.Member{}, false
	}
	if ch.Kind != channels.KindPresence {
		return presence.Member{}, true
	}
	sub.presence, sub.userID = true, t.Subject
	return presence.Member{UserID: t.Subject, UserInfo: t.UserInfo}, true
}

// tokenAllows says whether token t lets a connection be on channel ch:
// public channels are open as in Pusher, private and encrypted ones need
// subscribe, presence ones presence and a sub, and a user channel is the
// token subject's own.
func tokenAllows(t *channels.TokenClaims, ch channels.Channel) bool {
	switch ch.Kind {
	case channels.KindPublic:
		return true
	case channels.KindPresence:
		return t.Subject != "" && t.Capabilities.Allows(ch.Name, channels.OpPresence)
	case channels.KindUser:
		return t.Subject != "" && t.Subject == ch.UserID()
	default:
		return t.Capabilities.Allows(ch.Name, channels.OpSubscribe)
	}
}

// addSubscription records a subscription whose channel was joined, so that
// frames, unsubscribes and the close path find it.
func (c *conn) addSubscription(sub *subscription) {
	c.mu.Lock()
	c.subs.put(sub)
	c.mu.Unlock()
	c.gw.metrics.subscriptions.Inc()
	c.gw.webhookChannelChanged(c.appID, sub.ch)
	c.debugSub(channels.DebugSubscribed, sub.ch.Name)
}
