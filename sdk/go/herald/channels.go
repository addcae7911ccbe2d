package herald

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Channel is one channel's state, as Channel answers it.
type Channel struct {
	Name string `json:"-"`
	// Occupied says the channel has at least one subscriber.
	Occupied bool `json:"occupied"`
	// UserCount (presence channels) and SubscriptionCount, when asked
	// with info.
	UserCount         int `json:"user_count,omitempty"`
	SubscriptionCount int `json:"subscription_count,omitempty"`
	// Cache is a cache channel's cached event, with InfoCache; nil when
	// nothing is cached.
	Cache *CachedEvent `json:"cache,omitempty"`
}

// CachedEvent is the last event of a cache channel.
type CachedEvent struct {
	Event string `json:"event"`
	Data  string `json:"data"`
	// TTL is how many more seconds the entry lives.
	TTL int64 `json:"ttl"`
}

// Channels lists the occupied channels whose names start with prefix (""
// for every channel), with the attributes info asks for (InfoUserCount
// needs the prefix "presence-").
func (c *Client) Channels(ctx context.Context, prefix string, info ...string) (map[string]ChannelInfo, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("filter_by_prefix", prefix)
	}
	if len(info) > 0 {
		q.Set("info", strings.Join(info, ","))
	}
	var res struct {
		Channels map[string]ChannelInfo `json:"channels"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, segments: []string{"channels"}, query: q, idempotent: true}, &res); err != nil {
		return nil, err
	}
	if res.Channels == nil {
		res.Channels = map[string]ChannelInfo{}
	}
	return res.Channels, nil
}

// Channel returns one channel's state with the attributes info asks for
// (InfoUserCount on presence channels, InfoSubscriptionCount, InfoCache on
// cache channels; another is a 400).
func (c *Client) Channel(ctx context.Context, name string, info ...string) (*Channel, error) {
	q := url.Values{}
	if len(info) > 0 {
		q.Set("info", strings.Join(info, ","))
	}
	var ch Channel
	if err := c.do(ctx, request{method: http.MethodGet, segments: []string{"channels", name}, query: q, idempotent: true}, &ch); err != nil {
		return nil, err
	}
	ch.Name = name
	return &ch, nil
}

// ChannelUsers returns the ids of the users on a presence channel.
func (c *Client) ChannelUsers(ctx context.Context, name string) ([]string, error) {
	var res struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, segments: []string{"channels", name, "users"}, idempotent: true}, &res); err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Users))
	for i, u := range res.Users {
		ids[i] = u.ID
	}
	return ids, nil
}

// TerminateUserConnections closes every connection the user signed in on,
// on every gateway. Doing it twice does no harm, so it is retried.
func (c *Client) TerminateUserConnections(ctx context.Context, userID string) error {
	if userID == "" {
		return errors.New("herald: TerminateUserConnections needs a user id")
	}
	err := c.do(ctx, request{method: http.MethodPost, segments: []string{"users", userID, "terminate_connections"},
		body: struct{}{}, idempotent: true}, nil)
	return err
}
