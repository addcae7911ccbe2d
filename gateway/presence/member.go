package presence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
)

// MaxUserIDLen is the longest user id, in characters (docs/protocol.md,
// "User ids").
const MaxUserIDLen = channels.MaxUserIDLen

// Member is one user on a presence channel, as the channel_data of a
// presence subscription gives it.
type Member struct {
	UserID string
	// UserInfo is raw JSON, or nil when the user has none.
	UserInfo json.RawMessage
}

// ConnRef names one connection: the gateway that holds it and its socket
// id there.
type ConnRef struct {
	GatewayID string
	SocketID  string
}

// ValidateMember checks a member against Herald's rules and an app's user
// info limit: a user id of 1 to MaxUserIDLen characters of valid UTF-8,
// user info that is valid JSON of at most maxInfoBytes bytes (maxInfoBytes
// <= 0 means no limit). The gateway calls it with the app's
// max_presence_user_info_bytes; Join calls it with Config.MaxUserInfoBytes.
// Oversized info is a channels.CodeTooLarge error, anything else
// channels.ErrBadRequest.
func ValidateMember(m Member, maxInfoBytes int) error {
	if m.UserID == "" || !utf8.ValidString(m.UserID) || utf8.RuneCountInString(m.UserID) > MaxUserIDLen {
		return channels.BadRequest("user_id", fmt.Sprintf("user id must be 1 to %d characters", MaxUserIDLen))
	}
	if maxInfoBytes > 0 && len(m.UserInfo) > maxInfoBytes {
		return &channels.Error{Code: channels.CodeTooLarge, Field: "user_info",
			Message: fmt.Sprintf("user info is larger than %d bytes", maxInfoBytes)}
	}
	if len(m.UserInfo) > 0 && !json.Valid(m.UserInfo) {
		return channels.BadRequest("user_info", "user info must be valid JSON")
	}
	return nil
}

// memberValue is the JSON value of a member key.
type memberValue struct {
	UserID   string          `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info"`
}

func encodeMember(m Member) ([]byte, error) {
	b, err := json.Marshal(memberValue{UserID: m.UserID, UserInfo: normInfo(m.UserInfo)})
	if err != nil {
		return nil, fmt.Errorf("encode member: %w", err)
	}
	return b, nil
}

func decodeMember(data []byte) (Member, error) {
	var v memberValue
	if err := json.Unmarshal(data, &v); err != nil {
		return Member{}, fmt.Errorf("decode member: %w", err)
	}
	if v.UserID == "" {
		return Member{}, fmt.Errorf("decode member: empty user id")
	}
	return Member{UserID: v.UserID, UserInfo: normInfo(v.UserInfo)}, nil
}

// normInfo maps absent and JSON null info to nil, so that both read the
// same everywhere.
func normInfo(info json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(info)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	return info
}
