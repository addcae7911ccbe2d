package channels

import (
	"crypto/md5"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Pusher request signing (PUSHER.md §3.1).
const (
	// RequestTimestampWindow is how far auth_timestamp may be from now.
	RequestTimestampWindow = 600 * time.Second
	// RequestAuthVersion is the only auth_version Pusher defines.
	RequestAuthVersion = "1.0"
)

// Query parameters of a signed request.
const (
	ParamAuthKey       = "auth_key"
	ParamAuthTimestamp = "auth_timestamp"
	ParamAuthVersion   = "auth_version"
	ParamAuthSignature = "auth_signature"
	ParamBodyMD5       = "body_md5"
)

// RequestStringToSign builds "METHOD\npath\nquery" where query is every
// parameter but auth_signature, keys lower-cased and sorted, values
// decoded and unescaped, repeated values joined with ",".
func RequestStringToSign(method, path string, query url.Values) string {
	lowered := make(map[string]string, len(query))
	for k, vs := range query {
		lk := strings.ToLower(k)
		if lk == ParamAuthSignature {
			continue
		}
		v := strings.Join(vs, ",")
		if prev, dup := lowered[lk]; dup {
			v = prev + "," + v
		}
		lowered[lk] = v
	}
	keys := make([]string, 0, len(lowered))
	for k := range lowered {
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
		b.WriteString(lowered[k])
	}
	return b.String()
}

// BodyMD5 is the hex MD5 of a request body, as body_md5 carries it.
func BodyMD5(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// RequestKey returns the auth_key of a signed request, so that the caller
// can look up the secret to verify with.
func RequestKey(query url.Values) (string, error) {
	key := firstValue(query, ParamAuthKey)
	if key == "" {
		return "", &Error{Code: CodeUnauthorized, Message: "missing auth_key"}
	}
	return key, nil
}

// VerifyRequest checks a signed request against secret: the signature over
// method, path (the /apps/{id}/… path, without any mount prefix) and
// query, the body's MD5 when there is a body, and a timestamp within
// RequestTimestampWindow of now. It returns CodeUnauthorized errors.
func VerifyRequest(secret, method, path string, query url.Values, body []byte, now time.Time) error {
	sig := firstValue(query, ParamAuthSignature)
	if sig == "" {
		return &Error{Code: CodeUnauthorized, Message: "missing auth_signature"}
	}
	ts, err := strconv.ParseInt(firstValue(query, ParamAuthTimestamp), 10, 64)
	if err != nil {
		return &Error{Code: CodeUnauthorized, Message: "missing or invalid auth_timestamp"}
	}
	if d := now.Sub(time.Unix(ts, 0)); d > RequestTimestampWindow || d < -RequestTimestampWindow {
		return &Error{Code: CodeUnauthorized, Message: "auth_timestamp is more than 600 s from the server's time"}
	}
	if v := firstValue(query, ParamAuthVersion); v != "" && v != RequestAuthVersion {
		return &Error{Code: CodeUnauthorized, Message: "unsupported auth_version"}
	}
	if len(body) > 0 {
		if !strings.EqualFold(firstValue(query, ParamBodyMD5), BodyMD5(body)) {
			return &Error{Code: CodeUnauthorized, Message: "body_md5 does not match the body"}
		}
	}
	if !VerifyAuth(secret, RequestStringToSign(method, path, query), sig) {
		return &Error{Code: CodeUnauthorized, Message: "invalid auth_signature"}
	}
	return nil
}

// firstValue reads a parameter whatever the case of its key.
func firstValue(query url.Values, key string) string {
	if v := query.Get(key); v != "" {
		return v
	}
	for k, vs := range query {
		if strings.EqualFold(k, key) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
