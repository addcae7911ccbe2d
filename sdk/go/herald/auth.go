package herald

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
	"github.com/heraldhq/herald/sdk/go/internal/sign"
)

// Channel name prefixes that need an authorization.
const (
	privatePrefix  = "private-"
	presencePrefix = "presence-"
)

// maxSocketIDLen bounds a socket id, as the server does.
const maxSocketIDLen = 64

var socketIDPattern = regexp.MustCompile(`^\d+\.\d+$`)

// ErrSocketID is a socket id that is not Pusher's "123.456".
var ErrSocketID = errors.New("herald: socket id must look like 123.456")

// PresenceMember is who joins a presence channel.
type PresenceMember struct {
	// UserID is the member's id; required.
	UserID string `json:"user_id"`
	// UserInfo is shown to the channel's other members (JSON-encoded).
	UserInfo any `json:"user_info,omitempty"`
}

// ChannelAuthorization is the answer of an auth endpoint for a channel
// subscription, as pusher-js and Herald's realtime clients read it.
type ChannelAuthorization struct {
	Auth string `json:"auth"`
	// ChannelData is the presence member, signed as these exact bytes.
	ChannelData string `json:"channel_data,omitempty"`
	// SharedSecret is a private-encrypted channel's key (base64).
	SharedSecret string `json:"shared_secret,omitempty"`
}

// UserAuthentication is the answer of a user authentication endpoint
// (pusher:signin).
type UserAuthentication struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

// AuthorizeChannel signs a subscription of the connection socketID to a
// private, private-encrypted or presence channel, and returns the JSON
// body the auth endpoint answers. member is required on presence channels
// and ignored otherwise. Check that the user may join before calling it.
func (c *Client) AuthorizeChannel(socketID, channel string, member *PresenceMember) ([]byte, error) {
	a, err := c.ChannelAuthorization(socketID, channel, member)
	if err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// ChannelAuthorization is AuthorizeChannel's answer as a value.
func (c *Client) ChannelAuthorization(socketID, channel string, member *PresenceMember) (*ChannelAuthorization, error) {
	if err := checkSocketID(socketID); err != nil {
		return nil, err
	}
	var a ChannelAuthorization
	switch {
	case strings.HasPrefix(channel, presencePrefix):
		if member == nil || member.UserID == "" {
			return nil, errors.New("herald: a presence channel needs a member with a user id")
		}
		data, err := json.Marshal(member)
		if err != nil {
			return nil, fmt.Errorf("herald: encode presence member: %w", err)
		}
		a.ChannelData = string(data)
	case isEncrypted(channel):
		if c.cfg.EncryptionMasterKey == nil {
			return nil, ErrNoMasterKey
		}
		secret, err := encrypted.SharedSecretBase64(channel, c.cfg.EncryptionMasterKey)
		if err != nil {
			return nil, fmt.Errorf("herald: %w", err)
		}
		a.SharedSecret = secret
	case strings.HasPrefix(channel, privatePrefix):
	default:
		return nil, fmt.Errorf("herald: channel %q needs no authorization (only private-, private-encrypted- and presence- channels do)", channel)
	}
	a.Auth = sign.ChannelAuth(c.cfg.Key, c.cfg.Secret, socketID, channel, a.ChannelData)
	return &a, nil
}

// AuthenticateUser signs the sign-in (pusher:signin) of the connection
// socketID as the user userData describes, and returns the JSON body the
// user authentication endpoint answers. userData must have an "id" (a
// non-empty string, or an integer); "user_info" and "watchlist" are
// optional.
func (c *Client) AuthenticateUser(socketID string, userData map[string]any) ([]byte, error) {
	a, err := c.UserAuthentication(socketID, userData)
	if err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// UserAuthentication is AuthenticateUser's answer as a value.
func (c *Client) UserAuthentication(socketID string, userData map[string]any) (*UserAuthentication, error) {
	if err := checkSocketID(socketID); err != nil {
		return nil, err
	}
	if !validUserID(userData["id"]) {
		return nil, errors.New(`herald: user data needs an "id": a non-empty string or an integer`)
	}
	data, err := json.Marshal(userData)
	if err != nil {
		return nil, fmt.Errorf("herald: encode user data: %w", err)
	}
	return &UserAuthentication{
		Auth:     sign.UserAuth(c.cfg.Key, c.cfg.Secret, socketID, string(data)),
		UserData: string(data),
	}, nil
}

func checkSocketID(id string) error {
	if len(id) > maxSocketIDLen || !socketIDPattern.MatchString(id) {
		return ErrSocketID
	}
	return nil
}

// validUserID accepts what the server reads as a user id
// (docs/protocol.md, "User ids"): a non-empty string or an integer.
func validUserID(v any) bool {
	switch id := v.(type) {
	case string:
		return id != ""
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case json.Number:
		_, err := id.Int64()
		return err == nil
	}
	return false
}
