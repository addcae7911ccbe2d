package channels

import (
	"fmt"
	"strings"
)

// Name limits (docs/protocol.md, "Pusher compatibility": the SDKs and Soketi
// allow 200 characters).
const (
	MaxChannelNameLen = 200
	MaxEventNameLen   = 200
)

// Kind is what a channel's name prefix makes it.
type Kind uint8

// Channel kinds.
const (
	KindPublic Kind = iota
	KindPrivate
	KindPresence
	KindPrivateEncrypted
	// KindUser is the reserved #server-to-user-{id} channel of a signed-in
	// user.
	KindUser
)

// String names the kind for logs and errors.
func (k Kind) String() string {
	switch k {
	case KindPrivate:
		return "private"
	case KindPresence:
		return "presence"
	case KindPrivateEncrypted:
		return "private-encrypted"
	case KindUser:
		return "user"
	default:
		return "public"
	}
}

// Prefixes, matched anchored and longest first so that
// "private-encrypted-" never reads as "private-".
const (
	PrefixPrivateEncryptedCache = "private-encrypted-cache-"
	PrefixPrivateEncrypted      = "private-encrypted-"
	PrefixPrivateCache          = "private-cache-"
	PrefixPrivate               = "private-"
	PrefixPresenceCache         = "presence-cache-"
	PrefixPresence              = "presence-"
	PrefixCache                 = "cache-"
	PrefixUser                  = "#server-to-user-"
	PrefixClientEvent           = "client-"
)

var prefixes = []struct {
	prefix string
	kind   Kind
	cache  bool
}{
	{PrefixPrivateEncryptedCache, KindPrivateEncrypted, true},
	{PrefixPrivateEncrypted, KindPrivateEncrypted, false},
	{PrefixPrivateCache, KindPrivate, true},
	{PrefixPrivate, KindPrivate, false},
	{PrefixPresenceCache, KindPresence, true},
	{PrefixPresence, KindPresence, false},
	{PrefixCache, KindPublic, true},
	{PrefixUser, KindUser, false},
}

// Channel is a parsed, valid channel name.
type Channel struct {
	Name string
	Kind Kind
	// Cache marks cache channels, which replay the last published event
	// to new subscribers.
	Cache bool
}

// NeedsAuth reports whether subscribing needs a signature or a token.
func (c Channel) NeedsAuth() bool { return c.Kind != KindPublic }

// AllowsClientEvents reports whether client-* events may be sent on the
// channel (private and presence only; never encrypted, whose payloads the
// server cannot see).
func (c Channel) AllowsClientEvents() bool {
	return c.Kind == KindPrivate || c.Kind == KindPresence
}

// UserID is the user of a #server-to-user- channel.
func (c Channel) UserID() string {
	if c.Kind != KindUser {
		return ""
	}
	return c.Name[len(PrefixUser):]
}

// ParseChannel validates name and classifies it. Names are 1 to 200
// characters of [-a-zA-Z0-9_=@,.;]; the one exception is the reserved
// "#server-to-user-" prefix.
func ParseChannel(name string) (Channel, error) {
	if name == "" {
		return Channel{}, BadRequest("channel", "channel name is empty")
	}
	if len(name) > MaxChannelNameLen {
		return Channel{}, BadRequest("channel", fmt.Sprintf("channel name is longer than %d characters", MaxChannelNameLen))
	}
	body := name
	if strings.HasPrefix(name, "#") {
		if !strings.HasPrefix(name, PrefixUser) || len(name) == len(PrefixUser) {
			return Channel{}, BadRequest("channel", "channel names starting with # are reserved")
		}
		body = name[len(PrefixUser):]
	}
	for i := 0; i < len(body); i++ {
		if !channelNameChar(body[i]) {
			return Channel{}, BadRequest("channel", fmt.Sprintf("channel name has an invalid character at %d (allowed: a-z A-Z 0-9 - _ = @ , . ;)", i))
		}
	}
	c := Channel{Name: name, Kind: KindPublic}
	for _, p := range prefixes {
		if strings.HasPrefix(name, p.prefix) {
			c.Kind, c.Cache = p.kind, p.cache
			break
		}
	}
	return c, nil
}

func channelNameChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '-', '_', '=', '@', ',', '.', ';':
		return true
	}
	return false
}

// reservedEventPrefixes are the namespaces of the events the servers
// send themselves (Pusher's protocol events, Herald's extensions): a
// published message named in one would be taken by every subscriber's
// client library for the server's own (a spoofed
// pusher_internal:member_removed drops a member from pusher-js's roster).
// Pusher refuses them on its HTTP API too.
var reservedEventPrefixes = [...]string{"pusher:", "pusher_internal:", "herald:", "herald_internal:"}

// ValidateEventName checks the name of an event to publish: 1 to 200
// bytes of valid UTF-8 without control characters, outside the reserved
// namespaces.
func ValidateEventName(name string) error {
	if name == "" {
		return BadRequest("name", "event name is empty")
	}
	if len(name) > MaxEventNameLen {
		return BadRequest("name", fmt.Sprintf("event name is longer than %d bytes", MaxEventNameLen))
	}
	if !validUTF8NoControl(name) {
		return BadRequest("name", "event name has invalid or control characters")
	}
	for _, p := range reservedEventPrefixes {
		if strings.HasPrefix(name, p) {
			return BadRequest("name", fmt.Sprintf("event names starting with %q are reserved for the protocol's own events", p))
		}
	}
	return nil
}

func validUTF8NoControl(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
