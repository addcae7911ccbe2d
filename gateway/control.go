package gateway

import (
	"context"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// The gateway's part of cluster-wide queries and commands
// (docs/architecture.md, "Cluster-wide state"): an occupancy.Responder
// answers the control plane from this gateway's own connections. It
// subscribes on the live connection, as every gateway subscription does, and
// answers on its own workers, never in the NATS callback.

// terminateMessage is the pusher:error message of a connection closed by
// the tenant's terminate_connections call.
const terminateMessage = "connection terminated by the application"

// terminateReason marks that pusher:error as final (docs/protocol.md,
// "Users and their connections"). Its code, 4009, is what pusher-js
// never reconnects on, but Herald's SDKs take a 4009 for a token to
// renew and would come back: "reason" is a Herald extension field,
// which pusher-js ignores, that tells them the close is final.
const terminateReason = "terminated"

// terminateError is the pusher:error a terminated WebSocket gets before
// its close frame.
func terminateError() []byte {
	data := []byte(`{"code":`)
	data = strconv.AppendInt(data, int64(channels.PusherUnauthorized), 10)
	data = append(data, `,"message":`...)
	data = protocol.AppendString(data, terminateMessage)
	data = append(data, `,"reason":`...)
	data = protocol.AppendString(data, terminateReason)
	data = append(data, '}')
	return protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventError, Data: string(data)})
}

// runControl answers occupancy queries and terminate commands until ctx is
// done.
func (g *Gateway) runControl(ctx context.Context) error {
	r, err := occupancy.NewResponder(occupancy.ResponderConfig{
		NC: g.cfg.LiveNC, GatewayID: g.cfg.Presence.GatewayID(),
		Source: controlSource{g}, Logger: g.cfg.Logger,
	})
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// controlSource implements occupancy.Source over the hub and the
// connection table.
type controlSource struct{ g *Gateway }

// Channels implements occupancy.Source.
func (s controlSource) Channels(q occupancy.Query) []occupancy.ChannelCount {
	var states []*channelState
	if len(q.Channels) > 0 {
		for _, name := range q.Channels {
			if cs := s.g.hub.get(chanKey{app: q.AppID, name: name}); cs != nil {
				states = append(states, cs)
			}
		}
	} else {
		states = s.g.hub.appChannels(q.AppID, q.Prefix)
	}
	out := make([]occupancy.ChannelCount, 0, len(states))
	for _, cs := range states {
		if cc := cs.localCount(q.Users); cc.Subscriptions > 0 {
			out = append(out, cc)
		}
	}
	return out
}

// TerminateUser implements occupancy.Source: it closes the app's
// connections of userID (users.go: signed in as the user, or opened with
// a token whose sub is the user; WebSockets and SSE streams alike) with
// 4009, as Pusher does, after a pusher:error marked terminateReason.
// Their presence memberships and user channel go with them.
func (s controlSource) TerminateUser(appID, userID string) int {
	n := 0
	for _, c := range s.g.terminatingConns(appID, userID) {
		if c.terminate() {
			n++
		}
	}
	return n
}

// terminate closes c as terminate_connections does; false when it was
// closed or closing already.
func (c *conn) terminate() bool {
	c.mu.Lock()
	open := !c.closed && !c.closing
	c.mu.Unlock()
	if open {
		c.debugClientError(channels.PusherUnauthorized, terminateMessage)
		c.closeAfter(terminateError(), uint16(channels.PusherUnauthorized), terminateMessage)
	}
	return open
}

// appChannels returns the app's channels whose name starts with prefix,
// server-to-user channels excepted (they are not the tenant's channels to
// list). It scans the whole hub, one shard lock at a time.
func (h *hub) appChannels(appID, prefix string) []*channelState {
	var out []*channelState
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		for k, cs := range s.m {
			if k.app == appID && strings.HasPrefix(k.name, prefix) && cs.ch.Kind != channels.KindUser {
				out = append(out, cs)
			}
		}
		s.mu.Unlock()
	}
	return out
}

// localCount counts the channel's local subscriptions: connections whose
// subscribe completed (a join still in progress is not counted yet), and
// with users the distinct presence user ids among them.
func (cs *channelState) localCount(users bool) occupancy.ChannelCount {
	cc := occupancy.ChannelCount{Name: cs.key.name}
	var seen map[string]struct{}
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	for c := range cs.subs {
		c.mu.Lock()
		sub := c.subs.get(cs.key.name)
		c.mu.Unlock()
		if sub == nil {
			continue
		}
		cc.Subscriptions++
		if !users || !sub.presence {
			continue
		}
		if seen == nil {
			seen = map[string]struct{}{}
		}
		if _, dup := seen[sub.userID]; !dup {
			seen[sub.userID] = struct{}{}
			cc.UserIDs = append(cc.UserIDs, sub.userID)
		}
	}
	return cc
}
