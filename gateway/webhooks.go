package gateway

import (
	"slices"
	"strconv"

	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
)

// The gateway's part of webhooks (docs/architecture.md, "Webhook
// events"). Channel and member transitions are cluster-wide, so the gateway
// only reports what it holds of each channel (WebhookReporter, the
// HERALD_WEBHOOK_STATE bucket) and the control plane decides; client_event
// and cache_miss concern one connection, so the gateway publishes them
// itself (WebhookEmitter). Apps whose endpoints want none of these kinds
// cost one config lookup per subscribe and unsubscribe.

// WebhookReporter records that this gateway's share of a channel may have
// changed; bus/webhookstate.Reporter implements it. Mark must not block.
type WebhookReporter interface {
	Mark(ref webhookstate.ChannelRef)
}

// WebhookEmitter publishes webhook events; bus/webhookstate.Emitter
// implements it. Emit must not block.
type WebhookEmitter interface {
	Emit(evs ...webhookstate.Event)
}

// channelKinds are the kinds decided from the webhook state bucket.
var channelKinds = []channels.WebhookEventName{
	channels.WebhookChannelOccupied, channels.WebhookChannelVacated,
	channels.WebhookMemberAdded, channels.WebhookMemberRemoved, channels.WebhookSubscriptionCount,
}

// wantsChannelState reports whether the app wants any kind decided from
// the webhook state bucket.
func wantsChannelState(app *channels.AppConfig) bool {
	for _, k := range app.WebhookEvents {
		if slices.Contains(channelKinds, k) {
			return true
		}
	}
	return false
}

// webhookChannelChanged tells the reporter that this gateway's share of a
// channel changed, if the app wants channel events.
func (g *Gateway) webhookChannelChanged(appID string, ch channels.Channel) {
	if g.cfg.WebhookState == nil || ch.Kind == channels.KindUser {
		return
	}
	app, ok := g.cfg.Apps.App(appID)
	if !ok || len(app.WebhookEvents) == 0 {
		return
	}
	if _, reported := g.webhookApps.Load(appID); !reported {
		if !wantsChannelState(app) {
			return
		}
		g.webhookApps.Store(appID, struct{}{})
	}
	g.cfg.WebhookState.Mark(webhookstate.ChannelRef{AppID: appID, Channel: ch.Name})
}

// webhookAppChanged reports every local channel of an app again after its
// config changed: the kinds it wants may have changed, so keys may have
// to be written or purged.
func (g *Gateway) webhookAppChanged(appID string) {
	if g.cfg.WebhookState == nil {
		return
	}
	app, ok := g.cfg.Apps.App(appID)
	_, reported := g.webhookApps.Load(appID)
	if !reported && (!ok || !wantsChannelState(app)) {
		return
	}
	g.webhookApps.Store(appID, struct{}{})
	for _, cs := range g.hub.appChannels(appID, "") {
		g.cfg.WebhookState.Mark(webhookstate.ChannelRef{AppID: appID, Channel: cs.key.name})
	}
}

// WebhookSnapshot is what this gateway holds of a channel, for the
// webhook state reporter: false when it holds nothing the app wants
// reported.
func (g *Gateway) WebhookSnapshot(ref webhookstate.ChannelRef) (webhookstate.Value, bool) {
	app, ok := g.cfg.Apps.App(ref.AppID)
	if !ok || !wantsChannelState(app) {
		return webhookstate.Value{}, false
	}
	cs := g.hub.get(chanKey{app: ref.AppID, name: ref.Channel})
	if cs == nil {
		return webhookstate.Value{}, false
	}
	count := slices.Contains(app.WebhookEvents, channels.WebhookSubscriptionCount)
	members := slices.Contains(app.WebhookEvents, channels.WebhookMemberAdded) ||
		slices.Contains(app.WebhookEvents, channels.WebhookMemberRemoved)
	// Only completed subscriptions count, as in occupancy queries: a
	// presence subscribe refused after joining (a full channel) must not
	// make its user a member for a moment.
	var v webhookstate.Value
	n := 0
	cs.mu.RLock()
	for c, sub := range cs.subs {
		c.mu.Lock()
		done := c.subs.get(cs.key.name) == sub
		c.mu.Unlock()
		if !done {
			continue
		}
		n++
		if members && sub.presence {
			v.Users = append(v.Users, sub.userID)
		}
	}
	cs.mu.RUnlock()
	if n == 0 {
		return webhookstate.Value{}, false
	}
	v.Subscriptions = 1
	if count {
		v.Subscriptions = int64(n)
	}
	slices.Sort(v.Users)
	v.Users = slices.Compact(v.Users)
	return v, true
}

// webhookClientEvent publishes the client_event webhook of a client event
// (or herald:publish) stored with serial on a private or presence
// channel.
func (g *Gateway) webhookClientEvent(app *channels.AppConfig, c *conn, sub *subscription, event, data string, serial uint64) {
	if g.cfg.WebhookEvents == nil || !sub.ch.AllowsClientEvents() ||
		!slices.Contains(app.WebhookEvents, channels.WebhookClientEvent) {
		return
	}
	ev := channels.WebhookEvent{
		Name: channels.WebhookClientEvent, Channel: sub.ch.Name, Event: event, Data: data, SocketID: c.socketID,
	}
	if sub.ch.Kind == channels.KindPresence {
		ev.UserID = sub.userID
	}
	ref := webhookstate.ChannelRef{AppID: app.ID, Channel: sub.ch.Name}
	g.cfg.WebhookEvents.Emit(webhookstate.Event{
		Env: channels.WebhookEnvelope{AppID: app.ID, TimeMS: g.cfg.Now().UnixMilli(), Event: ev},
		// The serial names the client event: a retry of this publish is
		// stored once.
		MsgID: webhookstate.MsgID(ref, channels.WebhookClientEvent, serial, ""),
	})
}

// webhookCacheMiss publishes the cache_miss webhook of a subscription to
// a cache channel that found no cached event.
func (g *Gateway) webhookCacheMiss(appID, channel string) {
	if g.cfg.WebhookEvents == nil {
		return
	}
	app, ok := g.cfg.Apps.App(appID)
	if !ok || !slices.Contains(app.WebhookEvents, channels.WebhookCacheMiss) {
		return
	}
	g.cfg.WebhookEvents.Emit(webhookstate.Event{
		Env: channels.WebhookEnvelope{AppID: appID, TimeMS: g.cfg.Now().UnixMilli(),
			Event: channels.WebhookEvent{Name: channels.WebhookCacheMiss, Channel: channel}},
		// Unique per miss; stable across the emitter's retries.
		MsgID: "whm-" + strconv.FormatUint(uint64(g.socketPrefix), 10) + "-" + strconv.FormatUint(g.webhookSeq.Add(1), 10),
	})
}
