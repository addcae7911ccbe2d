package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/gateway/protocol"
)

// Watchlists (pusher:signin user data {"watchlist":[…]}): a signed-in user
// is online while it has a signed-in connection anywhere in the cluster.
// Online state is kept as presence on an internal per-user channel, so it
// reuses the cluster-wide rosters, leases and dead-gateway cleanup.
const (
	// onlinePrefix names the internal presence channel of a user. Its '#'
	// keeps it out of the space of channels clients can name.
	onlinePrefix = "#online:"
	// MaxWatchlist bounds the users one connection may watch.
	MaxWatchlist = 100
)

// watchState is the roster of one watched user, shared by the local
// connections watching it.
type watchState struct {
	key      chanKey
	ready    chan struct{}
	setupErr error

	mu       sync.Mutex
	roster   *presence.Roster
	watchers map[*conn]struct{}
}

// watches is the table of watched users with local watchers.
type watches struct {
	mu sync.Mutex
	m  map[chanKey]*watchState
}

// goOnline records c's user as online cluster-wide and starts its
// watchlist.
func (g *Gateway) goOnline(c *conn, userID string, watchlist []string) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	err := g.cfg.Presence.Join(ctx, c.appID, onlinePrefix+userID, c.socketID, presence.Member{UserID: userID})
	cancel()
	if err != nil {
		g.cfg.Logger.Warn("online state not recorded", "app", c.appID, "err", err)
	}
	if len(watchlist) > MaxWatchlist {
		watchlist = watchlist[:MaxWatchlist]
	}
	var online []string
	for _, id := range watchlist {
		if id == "" {
			continue
		}
		ws, err := g.watch(c, id)
		if err != nil {
			g.cfg.Logger.Warn("watchlist entry not watched", "app", c.appID, "err", err)
			continue
		}
		if ws.roster.UserCount() > 0 {
			online = append(online, id)
		}
	}
	if len(online) > 0 {
		c.send(watchlistEvent("online", online...))
	}
}

// goOffline undoes goOnline when the connection ends.
func (g *Gateway) goOffline(c *conn, u *signedInUser) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	if err := g.cfg.Presence.Leave(ctx, c.appID, onlinePrefix+u.id, c.socketID); err != nil {
		g.cfg.Logger.Warn("online state not cleared", "app", c.appID, "err", err)
	}
	for _, id := range u.watchlist {
		g.unwatch(c, id)
	}
}

func (g *Gateway) watch(c *conn, userID string) (*watchState, error) {
	k := chanKey{app: c.appID, name: onlinePrefix + userID}
	g.watches.mu.Lock()
	ws := g.watches.m[k]
	first := ws == nil
	if first {
		ws = &watchState{key: k, ready: make(chan struct{}), watchers: map[*conn]struct{}{}}
		g.watches.m[k] = ws
	}
	ws.mu.Lock()
	ws.watchers[c] = struct{}{}
	ws.mu.Unlock()
	g.watches.mu.Unlock()

	if first {
		ws.setupErr = g.openWatch(ws, userID)
		close(ws.ready)
	} else {
		<-ws.ready
	}
	if ws.setupErr != nil {
		g.unwatch(c, userID)
		return nil, ws.setupErr
	}
	return ws, nil
}

func (g *Gateway) openWatch(ws *watchState, userID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	for {
		r, err := g.cfg.Presence.Open(ctx, ws.key.app, ws.key.name, &watchEvents{ws: ws, userID: userID})
		if err == nil {
			ws.mu.Lock()
			ws.roster = r
			ws.mu.Unlock()
			return nil
		}
		if !errors.Is(err, presence.ErrAlreadyOpen) || ctx.Err() != nil {
			return err
		}
		time.Sleep(rosterReopenWait)
	}
}

func (g *Gateway) unwatch(c *conn, userID string) {
	k := chanKey{app: c.appID, name: onlinePrefix + userID}
	g.watches.mu.Lock()
	ws := g.watches.m[k]
	if ws == nil {
		g.watches.mu.Unlock()
		return
	}
	ws.mu.Lock()
	delete(ws.watchers, c)
	last := len(ws.watchers) == 0
	ws.mu.Unlock()
	if last {
		delete(g.watches.m, k)
	}
	g.watches.mu.Unlock()
	if !last {
		return
	}
	<-ws.ready
	ws.mu.Lock()
	r := ws.roster
	ws.mu.Unlock()
	if r != nil {
		r.Close()
	}
}

// watchEvents turns a watched user's online roster into watchlist events.
type watchEvents struct {
	ws     *watchState
	userID string
}

// MemberAdded implements presence.Handler: the user's first connection.
func (w *watchEvents) MemberAdded(string, json.RawMessage, presence.ConnRef) {
	w.notify(watchlistEvent("online", w.userID))
}

// MemberRemoved implements presence.Handler: the user's last connection.
func (w *watchEvents) MemberRemoved(string) { w.notify(watchlistEvent("offline", w.userID)) }

func (w *watchEvents) notify(payload []byte) {
	w.ws.mu.Lock()
	defer w.ws.mu.Unlock()
	for c := range w.ws.watchers {
		c.send(payload)
	}
}

// watchlistEvent is a pusher_internal:watchlist_events frame.
func watchlistEvent(name string, userIDs ...string) []byte {
	type event struct {
		Name    string   `json:"name"`
		UserIDs []string `json:"user_ids"`
	}
	data, _ := json.Marshal(struct {
		Events []event `json:"events"`
	}{[]event{{Name: name, UserIDs: userIDs}}})
	return protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventWatchlist, Data: string(data)})
}
