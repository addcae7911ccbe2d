// Package occupancy answers cluster-wide questions about channels — which
// are occupied, by how many connections, by which presence users — and
// carries the commands every gateway must act on (terminating a user's
// connections), by scatter-gather over NATS request/reply
// (docs/architecture.md, "Cluster-wide state").
//
// Every gateway runs a Responder that answers from its own connections.
// The control plane's Client publishes one request, collects the replies
// on an inbox until every gateway the registry lists has answered or a
// short timeout passed, and merges them: connection counts add up and
// presence user ids are unioned, so a user connected through two gateways
// counts once. Nothing is ever answered from one gateway's local view.
//
// Presence users come from the gateways' replies rather than from the
// presence KV bucket: one round trip answers every count from the same
// moment, only live gateways are heard (a dead gateway's member keys stay
// in the bucket until its janitor or their TTL removes them), and no
// request has to scan an app's member keys. Replies stay small: a gateway
// reports only the user ids of its own connections, and a presence
// channel holds at most max_presence_members users.
//
// Subjects: QuerySubject and TerminateSubject, replies on the client's
// _INBOX. The gateways that must answer are those the registry lists
// (gateways.Reader, bus/gateways).
package occupancy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// NATS subjects every gateway's Responder subscribes to (no queue group:
// each gateway must answer).
const (
	// QuerySubject carries channel queries; the body is a Query.
	QuerySubject = "herald.occupancy.query"
	// TerminateSubject carries terminate commands; the body is a
	// Terminate.
	TerminateSubject = "herald.occupancy.terminate"
)

// MaxQueryChannels bounds Query.Channels: a publish names at most
// channels.MaxChannelsPerPublishUB channels.
const MaxQueryChannels = 1000

// ErrBadQuery is returned for a query a gateway would refuse.
var ErrBadQuery = errors.New("bad occupancy query")

// Query asks every gateway about one app's channels.
type Query struct {
	AppID string `json:"app"`
	// Channels, when not empty, limits the answer to these channels.
	Channels []string `json:"channels,omitempty"`
	// Prefix limits the answer to channels whose name starts with it
	// (when Channels is empty). Server-to-user channels are never listed
	// by prefix.
	Prefix string `json:"prefix,omitempty"`
	// Users asks for the user ids of presence channels.
	Users bool `json:"users,omitempty"`
}

// Validate checks what a Responder relies on.
func (q *Query) Validate() error {
	switch {
	case q.AppID == "":
		return fmt.Errorf("%w: no app", ErrBadQuery)
	case len(q.Channels) > MaxQueryChannels:
		return fmt.Errorf("%w: more than %d channels", ErrBadQuery, MaxQueryChannels)
	}
	return nil
}

// Terminate asks every gateway to close a user's connections: signed in
// as the user, or opened with a token whose sub is the user.
type Terminate struct {
	AppID  string `json:"app"`
	UserID string `json:"user"`
}

// Validate checks what a Responder relies on.
func (t *Terminate) Validate() error {
	if t.AppID == "" || t.UserID == "" {
		return fmt.Errorf("%w: terminate needs an app and a user", ErrBadQuery)
	}
	return nil
}

// ChannelCount is one gateway's view of one channel: its connections
// subscribed there and, when asked for, the distinct user ids among them
// (presence channels only).
type ChannelCount struct {
	Name          string   `json:"name"`
	Subscriptions int      `json:"subs,omitempty"`
	UserIDs       []string `json:"users,omitempty"`
}

// reply is one message of a gateway's answer. A query's answer may take
// several parts (a large app); the last one is Final, and parts are
// numbered from 0 so that the client can tell a lost part.
type reply struct {
	GatewayID string         `json:"gw"`
	Part      int            `json:"part"`
	Final     bool           `json:"final,omitempty"`
	Channels  []ChannelCount `json:"channels,omitempty"`
	// Closed is how many connections a Terminate closed.
	Closed int `json:"closed,omitempty"`
}

// Source is what a gateway knows about its own connections.
type Source interface {
	// Channels returns the gateway's occupied channels that q selects,
	// with their local subscription counts (> 0) and, if q.Users, the
	// distinct user ids of presence channels. It must not block for
	// long: it runs on one of the Responder's few workers.
	Channels(q Query) []ChannelCount
	// TerminateUser closes the app's connections of userID (signed in as
	// the user, or opened with a token whose sub is the user) and returns
	// how many it closed.
	TerminateUser(appID, userID string) int
}

// Channel is one channel's cluster-wide occupancy.
type Channel struct {
	// Subscriptions counts connections subscribed, on every gateway.
	Subscriptions int
	users         map[string]struct{}
}

// UserCount is the number of distinct presence users, when the query
// asked for users.
func (c *Channel) UserCount() int { return len(c.users) }

// UserIDs returns the distinct presence user ids, sorted.
func (c *Channel) UserIDs() []string {
	ids := make([]string, 0, len(c.users))
	for id := range c.users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Result is the merged answer of every gateway.
type Result struct {
	// Channels holds the occupied channels the query selected.
	Channels map[string]*Channel
	// Missing lists the registered gateways that did not answer in
	// time, so the counts may be low. A gateway that just died is listed
	// until its registry key expires.
	Missing []string
}

// Channel returns a channel's occupancy; an unoccupied channel has zero
// counts.
func (r *Result) Channel(name string) *Channel {
	if c := r.Channels[name]; c != nil {
		return c
	}
	return &Channel{}
}

func (r *Result) add(cc ChannelCount) {
	c := r.Channels[cc.Name]
	if c == nil {
		c = &Channel{users: map[string]struct{}{}}
		r.Channels[cc.Name] = c
	}
	c.Subscriptions += cc.Subscriptions
	for _, id := range cc.UserIDs {
		c.users[id] = struct{}{}
	}
}

// Selects reports whether q selects the channel name: one of q.Channels,
// or, without them, a name starting with q.Prefix. Sources may use it.
func (q *Query) Selects(name string) bool {
	if len(q.Channels) > 0 {
		return slices.Contains(q.Channels, name)
	}
	return strings.HasPrefix(name, q.Prefix)
}
