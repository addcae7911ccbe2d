package gateway

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/authguard"
)

// handleSignin authenticates the connection as a user (docs/protocol.md,
// "Pusher compatibility"): the signature covers socket_id::user::user_data
// exactly as received. A bad sign-in closes the connection with 4009, as
// Pusher does.
func (c *conn) handleSignin(app *channels.AppConfig, f *protocol.Frame) {
	var req protocol.Signin
	if err := f.DecodeData(&req); err != nil {
		c.fail(channels.PusherUnauthorized, protocol.EventSignin+" needs data with auth and user_data")
		return
	}
	userData := string(req.UserData)
	if req.Auth != "" && c.authThrottled(authguard.KindChannelAuth) {
		return
	}
	if !c.gw.verifyAuth(app, string(req.Auth), channels.UserStringToSign(c.socketID, userData)) {
		if req.Auth != "" {
			c.authFailed(authguard.KindChannelAuth)
		}
		c.fail(channels.PusherUnauthorized, "invalid sign-in signature")
		return
	}
	var ud struct {
		ID        json.RawMessage   `json:"id"`
		Watchlist []json.RawMessage `json:"watchlist"`
	}
	if err := json.Unmarshal([]byte(userData), &ud); err != nil {
		c.fail(channels.PusherUnauthorized, "user_data must be a JSON object with an id")
		return
	}
	// The id is read as presence reads user_id, so {"id":1} and {"id":"1"}
	// are one user; signin_success still echoes user_data as signed.
	id, err := channels.ParseUserID(ud.ID)
	if err != nil {
		c.fail(channels.PusherUnauthorized, fmt.Sprintf("user_data.id must be a non-empty string or an integer, of at most %d characters", MaxUserIDLen))
		return
	}
	watchlist := make([]string, 0, min(len(ud.Watchlist), MaxWatchlist))
	for _, raw := range ud.Watchlist {
		w, err := channels.ParseUserID(raw)
		if err != nil {
			c.fail(channels.PusherUnauthorized, "user_data.watchlist must be an array of user ids (non-empty strings or integers)")
			return
		}
		watchlist = append(watchlist, w)
	}
	user := &signedInUser{id: id, watchlist: dedupe(watchlist, MaxWatchlist)}
	c.mu.Lock()
	already := c.user != nil
	if !already {
		c.user = user
	}
	c.mu.Unlock()
	if already {
		c.sendError(channels.PusherUnauthorized, "the connection is already signed in")
		return
	}
	c.gw.indexSignin(c, id)
	c.joinUserChannel(app, id)
	data, _ := json.Marshal(struct {
		UserData string `json:"user_data"`
	}{userData})
	c.send(protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventSigninSuccess, Data: string(data)}))
	c.gw.goOnline(c, user.id, user.watchlist)
	if c.gw.debugOn(c.appID) {
		c.gw.debug(c.appID, channels.DebugEvent{Type: channels.DebugSignedIn, SocketID: c.socketID, UserID: id})
	}
}

// joinUserChannel subscribes a connection that is signing in to its user's
// #server-to-user- channel before signin_success goes out, so that what
// the backend sends the user once sign-in succeeded is delivered even
// before the client's own subscribe arrives; that subscribe then only
// confirms (handleSubscribe). If the join fails, the client's subscribe
// tries again and reports the failure.
func (c *conn) joinUserChannel(app *channels.AppConfig, userID string) {
	ch, err := channels.ParseChannel(channels.PrefixUser + userID)
	if err != nil {
		// No channel can carry this id, so nothing can be sent to it.
		return
	}
	if t := c.claims(); t != nil && !tokenAllows(t, ch) {
		// A token connection's user channel is its token subject's.
		return
	}
	c.mu.Lock()
	already := c.subs.get(ch.Name) != nil
	c.mu.Unlock()
	if already {
		return
	}
	sub := &subscription{ch: ch}
	if _, err := c.gw.joinChannel(c, app.ID, ch, sub); err != nil {
		c.gw.cfg.Logger.Warn("user channel not joined at sign-in", "app", app.ID, "err", err)
		return
	}
	c.addSubscription(sub)
}

// dedupe returns the distinct non-empty ids, in order, at most limit.
func dedupe(ids []string, limit int) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, min(len(ids), limit))
	for _, id := range ids {
		if id == "" || seen[id] || len(out) == limit {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
