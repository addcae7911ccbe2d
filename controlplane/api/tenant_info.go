package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// Channel attributes the info parameter may ask for (docs/protocol.md,
// "Pusher compatibility").
const (
	attrUserCount         = "user_count"
	attrSubscriptionCount = "subscription_count"
	attrCache             = "cache"
)

// maxInfoLen bounds the info parameter: the three attributes fit many
// times over.
const maxInfoLen = 200

// infoAttrs is a parsed info parameter.
type infoAttrs struct {
	userCount, subscriptionCount, cache bool
}

func (i infoAttrs) any() bool { return i.userCount || i.subscriptionCount || i.cache }

// parseInfo reads a comma-separated info parameter. Blank items are
// skipped; an attribute not in allowed is a 400 naming it, so that a typo
// is not silently ignored.
func parseInfo(s string, allowed ...string) (infoAttrs, error) {
	var attrs infoAttrs
	if len(s) > maxInfoLen {
		return attrs, channels.BadRequest("info", fmt.Sprintf("info is longer than %d characters", maxInfoLen))
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || item == a
		}
		if !ok {
			return infoAttrs{}, channels.BadRequest("info", fmt.Sprintf("info attribute %q is not supported here (supported: %s)",
				truncateName(item), strings.Join(allowed, ", ")))
		}
		switch item {
		case attrUserCount:
			attrs.userCount = true
		case attrSubscriptionCount:
			attrs.subscriptionCount = true
		case attrCache:
			attrs.cache = true
		}
	}
	return attrs, nil
}

// maxEchoedLen bounds caller-supplied strings quoted back in errors.
const maxEchoedLen = 64

func truncateName(s string) string {
	if len(s) <= maxEchoedLen {
		return s
	}
	return s[:maxEchoedLen] + "…"
}

// channelInfo is one channel's attributes in a trigger, batch or channel
// list answer. Absent attributes are omitted; zero counts are shown.
type channelInfo struct {
	UserCount         *int `json:"user_count,omitempty"`
	SubscriptionCount *int `json:"subscription_count,omitempty"`
}

// infoOf renders the attributes attrs asks for; user_count only for
// presence channels, where it means something.
func infoOf(ch channels.Channel, occ *occupancy.Channel, attrs infoAttrs) channelInfo {
	var ci channelInfo
	if attrs.userCount && ch.Kind == channels.KindPresence {
		n := occ.UserCount()
		ci.UserCount = &n
	}
	if attrs.subscriptionCount {
		n := occ.Subscriptions
		ci.SubscriptionCount = &n
	}
	return ci
}

// errNoOccupancy answers the queries of an API built without an
// occupancy client.
var errNoOccupancy = &channels.Error{Code: channels.CodeUnavailable, Message: "channel queries are not available"}

// queryOccupancy asks every gateway. Gateways that did not answer in time
// were logged by the client; the answer counts what the others said.
func (a *API) queryOccupancy(ctx context.Context, q occupancy.Query) (*occupancy.Result, error) {
	if a.occupancy == nil {
		return nil, errNoOccupancy
	}
	res, err := a.occupancy.Query(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		a.logger.Warn("occupancy query failed", "app", q.AppID, "err", err)
		return nil, errOccupancyUnavailable
	}
	return res, nil
}

// errOccupancyUnavailable answers a query NATS could not carry.
var errOccupancyUnavailable = &channels.Error{Code: channels.CodeUnavailable, Message: "channel state is temporarily unavailable; try again"}

// publishedInfo is the info answer of a publish: the attributes of each of
// its channels, counted cluster-wide once the messages are stored.
func (a *API) publishedInfo(ctx context.Context, appID string, msgs []stream.Message, attrs infoAttrs) (map[string]channelInfo, error) {
	names := make([]string, len(msgs))
	for i := range msgs {
		names[i] = msgs[i].Channel
	}
	res, err := a.queryOccupancy(ctx, occupancy.Query{AppID: appID, Channels: names, Users: attrs.userCount})
	if err != nil {
		return nil, err
	}
	out := make(map[string]channelInfo, len(names))
	for _, name := range names {
		ch, _ := channels.ParseChannel(name) // validated by buildMessages
		out[name] = infoOf(ch, res.Channel(name), attrs)
	}
	return out, nil
}
