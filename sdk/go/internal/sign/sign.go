// Package sign holds the HMAC-SHA256 signatures Herald verifies: Pusher's
// channel authorization and user sign-in values, and the signed REST
// request (docs/protocol.md, "Pusher compatibility"). Both the server
// client and the realtime client sign with it, exactly as the server's
// channels package verifies.
package sign

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Query parameters of a signed request.
const (
	ParamAuthKey       = "auth_key"
	ParamAuthTimestamp = "auth_timestamp"
	ParamAuthVersion   = "auth_version"
	ParamAuthSignature = "auth_signature"
	ParamBodyMD5       = "body_md5"
)

// AuthVersion is the only auth_version Pusher defines.
const AuthVersion = "1.0"

// userSeparator sits between the socket id and the user data in what a
// sign-in signature covers.
const userSeparator = "::user::"

// HMACHex returns hex(HMAC-SHA256(secret, message)).
func HMACHex(secret, message string) string {
	return hex.EncodeToString(hmacSum(secret, []byte(message)))
}

// Equal reports, in constant time, whether the hex signature got is
// hex(HMAC-SHA256(secret, message)).
func Equal(secret string, message []byte, got string) bool {
	want := hex.EncodeToString(hmacSum(secret, message))
	return hmac.Equal([]byte(want), []byte(strings.ToLower(got)))
}

func hmacSum(secret string, message []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(message)
	return m.Sum(nil)
}

// ChannelString is what a private, private-encrypted or presence
// subscription signature covers: socket_id:channel, plus :channel_data for
// presence (the exact bytes the client will send).
func ChannelString(socketID, channel, channelData string) string {
	if channelData == "" {
		return socketID + ":" + channel
	}
	return socketID + ":" + channel + ":" + channelData
}

// UserString is what a pusher:signin signature covers.
func UserString(socketID, userData string) string {
	return socketID + userSeparator + userData
}

// Auth returns the "key:hexsignature" auth value of message.
func Auth(key, secret, message string) string {
	return key + ":" + HMACHex(secret, message)
}

// ChannelAuth is the auth value of a channel subscription.
func ChannelAuth(key, secret, socketID, channel, channelData string) string {
	return Auth(key, secret, ChannelString(socketID, channel, channelData))
}

// UserAuth is the auth value of a pusher:signin.
func UserAuth(key, secret, socketID, userData string) string {
	return Auth(key, secret, UserString(socketID, userData))
}

// BodyMD5 is the hex MD5 of a request body, as body_md5 carries it.
func BodyMD5(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// RequestString builds "METHOD\npath\nquery" where query is every
// parameter but auth_signature, keys lower-cased and sorted, values
// neither escaped nor re-escaped, repeated values joined with ",".
func RequestString(method, path string, query url.Values) string {
	joined := make(map[string]string, len(query))
	orig := make([]string, 0, len(query))
	for k := range query {
		orig = append(orig, k)
	}
	sort.Strings(orig)
	for _, k := range orig {
		lk := strings.ToLower(k)
		if lk == ParamAuthSignature {
			continue
		}
		v := strings.Join(query[k], ",")
		if prev, dup := joined[lk]; dup {
			v = prev + "," + v
		}
		joined[lk] = v
	}
	keys := make([]string, 0, len(joined))
	for k := range joined {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(joined[k])
	}
	return b.String()
}

// Request adds the auth parameters of a request to query (which it
// modifies and returns): auth_key, auth_timestamp (now), auth_version,
// body_md5 when there is a body, and auth_signature over method, path
// (the /apps/{id}/… path, without any mount prefix) and the query.
func Request(key, secret, method, path string, query url.Values, body []byte, now time.Time) url.Values {
	if query == nil {
		query = url.Values{}
	}
	query.Set(ParamAuthKey, key)
	query.Set(ParamAuthTimestamp, strconv.FormatInt(now.Unix(), 10))
	query.Set(ParamAuthVersion, AuthVersion)
	if len(body) > 0 {
		query.Set(ParamBodyMD5, BodyMD5(body))
	}
	query.Del(ParamAuthSignature)
	query.Set(ParamAuthSignature, HMACHex(secret, RequestString(method, path, query)))
	return query
}
