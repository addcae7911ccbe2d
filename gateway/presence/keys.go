package presence

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/channels"
)

// NATS names (docs/nats.md, "KV buckets").
const (
	// MemberBucket is the KV bucket of presence connections, one key
	// <app>.<chan>.<gateway>.<conn> per connection on a presence channel.
	MemberBucket = "HERALD_PRESENCE"
	// EventSubjectPrefix starts the core subjects that MemberBucket
	// republishes to: herald.presence.<app>.<chan>.<gateway>.<conn>.
	EventSubjectPrefix = "herald.presence"

	// MaxSocketIDLen bounds socket ids.
	MaxSocketIDLen = 64
)

// memberSubjectPrefix is the bucket's stream subject prefix; every key of
// the bucket is a subject below it.
const memberSubjectPrefix = "$KV." + MemberBucket + "."

var (
	// Socket ids are Pusher's "<digits>.<digits>" (docs/protocol.md,
	// "Pusher compatibility"); the '.' becomes '_' in a key, which is
	// injective because digits hold neither.
	socketIDPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	connTokPattern  = regexp.MustCompile(`^[0-9]+_[0-9]+$`)
)

// ValidateSocketID checks a Pusher socket id ("123.456").
func ValidateSocketID(id string) error {
	if len(id) > MaxSocketIDLen || !socketIDPattern.MatchString(id) {
		return channels.BadRequest("socket_id", "socket id must match ^[0-9]+\\.[0-9]+$")
	}
	return nil
}

// channelPrefix is the key prefix "<app>.<chanTok>" shared by every
// connection on one channel.
func channelPrefix(appID, channel string) (string, error) {
	if err := channels.ValidateAppID(appID); err != nil {
		return "", err
	}
	if channel == "" || len(channel) > channels.MaxChannelNameLen {
		return "", channels.BadRequest("channel", fmt.Sprintf("channel name must be 1 to %d bytes", channels.MaxChannelNameLen))
	}
	return appID + "." + channels.SubjectToken(channel), nil
}

// connKey is the key suffix "<gateway>.<connTok>" of one connection
// within its channel.
func connKey(gatewayID, socketID string) (string, error) {
	if err := gateways.ValidateGatewayID(gatewayID); err != nil {
		return "", err
	}
	if err := ValidateSocketID(socketID); err != nil {
		return "", err
	}
	return gatewayID + "." + strings.Replace(socketID, ".", "_", 1), nil
}

// parseConnKey is the inverse of connKey.
func parseConnKey(suffix string) (ConnRef, bool) {
	gw, tok, ok := strings.Cut(suffix, ".")
	if !ok || gateways.ValidateGatewayID(gw) != nil || !connTokPattern.MatchString(tok) {
		return ConnRef{}, false
	}
	return ConnRef{GatewayID: gw, SocketID: strings.Replace(tok, "_", ".", 1)}, true
}

// memberKey is the full key of one connection and its channel prefix.
func memberKey(appID, channel, gatewayID, socketID string) (key, prefix string, err error) {
	prefix, err = channelPrefix(appID, channel)
	if err != nil {
		return "", "", err
	}
	suffix, err := connKey(gatewayID, socketID)
	if err != nil {
		return "", "", err
	}
	return prefix + "." + suffix, prefix, nil
}

// gatewayMembersFilter matches every member key a gateway owns.
func gatewayMembersFilter(gatewayID string) string {
	return memberSubjectPrefix + "*.*." + gatewayID + ".*"
}
