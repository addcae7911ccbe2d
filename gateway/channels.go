package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
)

// joinChannel adds c to a channel. The first local subscriber subscribes
// the gateway to the channel's live subject (and opens the presence roster)
// before anyone is told the subscription succeeded, so nothing published
// after subscription_succeeded is missed. Later subscribers wait until that
// setup is done.
func (g *Gateway) joinChannel(c *conn, appID string, ch channels.Channel, sub *subscription) (*channelState, error) {
	k := chanKey{app: appID, name: ch.Name}
	cs, first := g.hub.join(k, ch, c, sub)
	if first {
		cs.setupErr = g.setupChannel(cs)
		close(cs.ready)
		if cs.setupErr == nil {
			g.debugChannel(channels.DebugChannelOccupied, appID, ch.Name)
		}
	} else {
		<-cs.ready
	}
	if cs.setupErr != nil {
		g.leaveChannel(c, sub)
		return nil, cs.setupErr
	}
	return cs, nil
}

func (g *Gateway) setupChannel(cs *channelState) error {
	if err := g.live.Subscribe(cs.key.app, cs.key.name); err != nil {
		return err
	}
	if cs.ch.Kind != channels.KindPresence {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	var roster *presence.Roster
	var err error
	for {
		roster, err = g.cfg.Presence.Open(ctx, cs.key.app, cs.key.name, &rosterEvents{g: g, cs: cs})
		// The previous state's roster may still be closing after its last
		// subscriber left a moment ago.
		if !errors.Is(err, presence.ErrAlreadyOpen) || ctx.Err() != nil {
			break
		}
		time.Sleep(rosterReopenWait)
	}
	if err != nil {
		g.live.Unsubscribe(cs.key.app, cs.key.name)
		return err
	}
	cs.mu.Lock()
	cs.roster = roster
	cs.mu.Unlock()
	return nil
}

// rosterReopenWait is the pause before opening a roster again while the
// previous one for the channel is still closing.
const rosterReopenWait = 5 * time.Millisecond

// leaveChannel removes c from a channel it joined (or failed to join).
func (g *Gateway) leaveChannel(c *conn, sub *subscription) {
	k := chanKey{app: c.appID, name: sub.ch.Name}
	if sub.presence {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
		if err := g.cfg.Presence.Leave(ctx, c.appID, sub.ch.Name, c.socketID); err != nil {
			g.cfg.Logger.Warn("presence leave failed", "app", c.appID, "err", err)
		}
		cancel()
		c.debugMember(channels.DebugMemberRemoved, sub.ch.Name, sub.userID)
	}
	cs := g.hub.get(k)
	roster, last := g.hub.leave(k, c)
	g.webhookChannelChanged(k.app, sub.ch)
	if !last {
		return
	}
	if cs != nil {
		<-cs.ready
		if cs.setupErr != nil {
			return
		}
	}
	g.live.Unsubscribe(k.app, k.name)
	if roster != nil {
		roster.Close()
	}
	g.debugChannel(channels.DebugChannelVacated, k.app, k.name)
}

// rosterRef returns the channel's presence roster.
func (cs *channelState) rosterRef() *presence.Roster {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.roster
}

// framePool recycles the scratch buffers fan-out encodes into.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encodeFrame builds a WebSocket text frame holding m, allocating exactly
// once: the frame is shared by every subscriber it goes to.
func encodeFrame(m *protocol.Message) []byte {
	bp := framePool.Get().(*[]byte)
	payload := protocol.AppendMessage((*bp)[:0], m)
	frame := ws.AppendFrame(make([]byte, 0, ws.FrameSize(len(payload))), ws.OpText, true, payload)
	*bp = payload
	framePool.Put(bp)
	return frame
}

// deliver fans a message from the stream out to the channel's local
// subscribers, encoding it once. It runs on a stream shard goroutine and
// never blocks.
func (g *Gateway) deliver(d *stream.Delivery) {
	cs := g.hub.get(chanKey{app: d.AppID, name: d.Channel})
	if cs == nil {
		return
	}
	frame := encodeFrame(&protocol.Message{
		Event: d.Event, Channel: d.Channel, Data: protocol.BytesString(d.Data),
		UserID: d.UserID, Serial: d.Serial,
	})
	n := cs.broadcast(heldFrame{serial: d.Serial, prev: d.PrevSerial, frame: frame, event: d.Event}, d.ExcludeSocket, cs.fanoutBehind(d))
	if g.cfg.Hops != nil {
		g.fannedOut(d)
	}
	if cs.deliveries != nil {
		cs.deliveries.Add(float64(n))
		return
	}
	g.metrics.deliveries.Add(float64(n))
}

// rosterEvents turns roster changes into member_added / member_removed
// for the channel's local subscribers.
type rosterEvents struct {
	g  *Gateway
	cs *channelState
}

// MemberAdded implements presence.Handler.
func (r *rosterEvents) MemberAdded(userID string, info json.RawMessage, by presence.ConnRef) {
	if len(info) == 0 {
		info = json.RawMessage("null")
	}
	data, _ := json.Marshal(struct {
		UserID   string          `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}{userID, info})
	frame := encodeFrame(&protocol.Message{Event: protocol.EventMemberAdded, Channel: r.cs.key.name, Data: string(data)})
	skip := ""
	if by.GatewayID == r.g.cfg.GatewayID {
		// Never to the joining socket itself.
		skip = by.SocketID
	}
	r.cs.broadcast(heldFrame{frame: frame, event: protocol.EventMemberAdded}, skip, false)
}

// MemberRemoved implements presence.Handler.
func (r *rosterEvents) MemberRemoved(userID string) {
	data, _ := json.Marshal(struct {
		UserID string `json:"user_id"`
	}{userID})
	frame := encodeFrame(&protocol.Message{Event: protocol.EventMemberRemoved, Channel: r.cs.key.name, Data: string(data)})
	r.cs.broadcast(heldFrame{frame: frame, event: protocol.EventMemberRemoved}, "", false)
}
