package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// UserSignSeparator sits between the socket id and the user data in the
// string a sign-in signature covers.
const UserSignSeparator = "::user::"

var socketIDPattern = regexp.MustCompile(`^\d+\.\d+$`)

// ValidSocketID reports whether id has Pusher's socket id form, which every
// SDK checks.
func ValidSocketID(id string) bool {
	return len(id) <= 64 && socketIDPattern.MatchString(id)
}

// HMACSHA256Hex returns hex(HMAC-SHA256(secret, message)).
func HMACSHA256Hex(secret, message string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(message))
	return hex.EncodeToString(m.Sum(nil))
}

// ChannelStringToSign is what a private, encrypted or presence
// subscription signature covers: socket_id:channel, plus :channel_data for
// presence, exactly as received.
func ChannelStringToSign(socketID, channel, channelData string) string {
	if channelData == "" {
		return socketID + ":" + channel
	}
	return socketID + ":" + channel + ":" + channelData
}

// UserStringToSign is what a sign-in signature covers.
func UserStringToSign(socketID, userData string) string {
	return socketID + UserSignSeparator + userData
}

// SignAuth returns the "key:signature" auth value for message.
func SignAuth(key, secret, message string) string {
	return key + ":" + HMACSHA256Hex(secret, message)
}

// SplitAuth splits an auth value "key:hexsignature".
func SplitAuth(auth string) (key, signature string, ok bool) {
	key, signature, ok = strings.Cut(auth, ":")
	return key, signature, ok && key != "" && signature != ""
}

// VerifyAuth reports, in constant time with respect to the signature,
// whether signature is the HMAC of message under secret.
func VerifyAuth(secret, message, signature string) bool {
	want := HMACSHA256Hex(secret, message)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(signature)))
}
