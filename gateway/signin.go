package gateway

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// handleSignin authenticates the connection as a user (PUSHER.md §2): the
// signature covers socket_id::user::user_data exactly as received. A bad
// sign-in closes the connection with 4009, as Pusher does.
func (c *conn) handleSignin(app *channels.AppConfig, f *protocol.Frame) {
	var req protocol.Signin
	if err := f.DecodeData(&req); err != nil {
		c.fail(CodeUnauthorized, "pusher:signin needs data with auth and user_data")
		return
	}
	userData := string(req.UserData)
	if !c.gw.verifyAuth(app, string(req.Auth), channels.UserStringToSign(c.socketID, userData)) {
		c.fail(CodeUnauthorized, "invalid sign-in signature")
		return
	}
	var ud struct {
		ID        json.RawMessage `json:"id"`
		Watchlist []string        `json:"watchlist"`
	}
	if err := json.Unmarshal([]byte(userData), &ud); err != nil {
		c.fail(CodeUnauthorized, "user_data must be a JSON object with an id")
		return
	}
	var id string
	if err := json.Unmarshal(ud.ID, &id); err != nil || id == "" || utf8.RuneCountInString(id) > MaxUserIDLen {
		c.fail(CodeUnauthorized, "user_data.id must be a non-empty string of at most 128 characters")
		return
	}
	user := &signedInUser{id: id, watchlist: dedupe(ud.Watchlist, MaxWatchlist)}
	c.mu.Lock()
	already := c.user != nil
	if !already {
		c.user = user
	}
	c.mu.Unlock()
	if already {
		c.send(errorFrame(CodeUnauthorized, "the connection is already signed in"))
		return
	}
	data, _ := json.Marshal(struct {
		UserData string `json:"user_data"`
	}{userData})
	c.send(protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventSigninSuccess, Data: string(data)}))
	c.gw.goOnline(c, user.id, user.watchlist)
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
