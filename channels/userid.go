package channels

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Errors of ParseUserID, for callers that answer the two differently.
var (
	ErrUserIDInvalid = errors.New("user id must be a non-empty string or an integer")
	ErrUserIDTooLong = fmt.Errorf("user id is longer than %d characters", MaxUserIDLen)
)

// ParseUserID reads a user id as clients send it: a presence
// channel_data's user_id or a sign-in user_data's id. Laravel sends ids as
// JSON numbers, so an integer is accepted and is the same user as its
// decimal string: 1 and "1" both read "1" (and -0 reads "0"). A number
// with a fraction or an exponent (1.5, 1e3, 1.0) is refused rather than
// rewritten, since clients disagree on how to print it and the id names
// the #server-to-user- channel the client subscribes to. So are an empty
// string, null, booleans, objects and arrays, and an id longer than
// MaxUserIDLen characters.
func ParseUserID(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", ErrUserIDInvalid
	}
	var id string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &id); err != nil || id == "" {
			return "", ErrUserIDInvalid
		}
	} else {
		if !jsonInteger(raw) {
			return "", ErrUserIDInvalid
		}
		id = string(raw)
		if id == "-0" {
			id = "0"
		}
	}
	if utf8.RuneCountInString(id) > MaxUserIDLen {
		return "", ErrUserIDTooLong
	}
	return id, nil
}

// jsonInteger reports whether b is a JSON number without fraction or
// exponent.
func jsonInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, d := range b {
		if d < '0' || d > '9' {
			return false
		}
	}
	return true
}
