package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/channels"
)

// channelsResponse is the answer of GET /apps/{id}/channels: occupied
// channels only, and {} (never null) when there are none, because PHP and Go
// SDKs decode it into a map (docs/protocol.md, "Pusher compatibility").
type channelsResponse struct {
	Channels map[string]channelInfo `json:"channels"`
}

// channelResponse is the answer of GET /apps/{id}/channels/{name}.
type channelResponse struct {
	Occupied bool `json:"occupied"`
	channelInfo
	Cache *cachedEvent `json:"cache,omitempty"`
}

// cachedEvent is a cache channel's cached event, with the seconds it
// still lives.
type cachedEvent struct {
	Event string `json:"event"`
	Data  string `json:"data"`
	TTL   int64  `json:"ttl"`
}

// usersResponse is the answer of GET /apps/{id}/channels/{name}/users.
type usersResponse struct {
	Users []userEntry `json:"users"`
}

// userEntry is one presence user; ids are strings (docs/protocol.md,
// "Pusher compatibility").
type userEntry struct {
	ID string `json:"id"`
}

func (a *API) listChannels(c echo.Context) error {
	app := appOf(c)
	prefix := c.QueryParam("filter_by_prefix")
	if prefix != "" {
		// A prefix is a channel name's beginning: the same characters.
		if _, err := channels.ParseChannel(prefix); err != nil {
			return channels.BadRequest("filter_by_prefix", "filter_by_prefix has characters no channel name has")
		}
	}
	attrs, err := parseInfo(c.QueryParam("info"), attrUserCount, attrSubscriptionCount)
	if err != nil {
		return err
	}
	if attrs.userCount && !strings.HasPrefix(prefix, channels.PrefixPresence) {
		return channels.BadRequest("info", "info=user_count needs filter_by_prefix=presence-")
	}
	res, err := a.queryOccupancy(c.Request().Context(), occupancy.Query{AppID: app.ID, Prefix: prefix, Users: attrs.userCount})
	if err != nil {
		return err
	}
	resp := channelsResponse{Channels: make(map[string]channelInfo, len(res.Channels))}
	for name, occ := range res.Channels {
		ch, err := channels.ParseChannel(name)
		if err != nil {
			continue // not a name a tenant can use
		}
		resp.Channels[name] = infoOf(ch, occ, attrs)
	}
	return c.JSON(http.StatusOK, resp)
}

// channelParam reads and validates the channel name in the path.
func channelParam(c echo.Context) (channels.Channel, error) {
	name, err := pathParam(c, "channel_name")
	if err != nil {
		return channels.Channel{}, channels.BadRequest("channel", "channel name is not a valid path segment")
	}
	return channels.ParseChannel(name)
}

func (a *API) getChannel(c echo.Context) error {
	app := appOf(c)
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	attrs, err := parseInfo(c.QueryParam("info"), attrUserCount, attrSubscriptionCount, attrCache)
	if err != nil {
		return err
	}
	switch {
	case attrs.userCount && ch.Kind != channels.KindPresence:
		return channels.BadRequest("info", "user_count applies to presence channels only")
	case attrs.cache && !ch.Cache:
		return channels.BadRequest("info", "cache applies to cache channels only")
	}
	ctx := c.Request().Context()
	res, err := a.queryOccupancy(ctx, occupancy.Query{AppID: app.ID, Channels: []string{ch.Name}, Users: attrs.userCount})
	if err != nil {
		return err
	}
	occ := res.Channel(ch.Name)
	resp := channelResponse{Occupied: occ.Subscriptions > 0, channelInfo: infoOf(ch, occ, attrs)}
	if attrs.cache && a.cache != nil {
		e, ok, err := a.cache.Get(ctx, app.ID, ch.Name)
		if err != nil {
			a.logger.Warn("cache channel read failed", "app", app.ID, "err", err)
			return errOccupancyUnavailable
		}
		if ok {
			// Whole seconds, rounded up: a fresh entry shows its full TTL.
			left := max(e.ExpiresAt.Sub(a.now()), 0)
			resp.Cache = &cachedEvent{Event: e.Event, Data: e.Data, TTL: int64((left + time.Second - 1) / time.Second)}
		}
	}
	return c.JSON(http.StatusOK, resp)
}

func (a *API) getChannelUsers(c echo.Context) error {
	app := appOf(c)
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	if ch.Kind != channels.KindPresence {
		return channels.BadRequest("channel", "users can only be listed on presence channels")
	}
	res, err := a.queryOccupancy(c.Request().Context(), occupancy.Query{AppID: app.ID, Channels: []string{ch.Name}, Users: true})
	if err != nil {
		return err
	}
	ids := res.Channel(ch.Name).UserIDs()
	resp := usersResponse{Users: make([]userEntry, len(ids))}
	for i, id := range ids {
		resp.Users[i] = userEntry{ID: id}
	}
	return c.JSON(http.StatusOK, resp)
}
