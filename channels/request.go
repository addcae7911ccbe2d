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

// Pusher request signing (docs/protocol.md, "Pusher compatibility").
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
	// Keys that differ only in case fold into one, their values joined in
	// the order of the original keys, so that the string never depends on
	// map iteration.
	orig := make([]string, 0, len(query))
	for k := range query {
		orig = append(orig, k)
	}
	sort.Strings(orig)
	lowered := make(map[string]string, len(query))
	for _, k := range orig {
		vs := query[k]
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
	key, ok := singleValue(query, ParamAuthKey)
	if !ok {
		return "", &Error{Code: CodeUnauthorized, Message: "auth_key is given more than once"}
	}
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
	var auth [4]string
	for i, key := range []string{ParamAuthSignature, ParamAuthTimestamp, ParamAuthVersion, ParamBodyMD5} {
		v, ok := singleValue(query, key)
		if !ok {
			return &Error{Code: CodeUnauthorized, Message: key + " is given more than once"}
		}
		auth[i] = v
	}
	sig, tsValue, version, bodyMD5 := auth[0], auth[1], auth[2], auth[3]
	if sig == "" {
		return &Error{Code: CodeUnauthorized, Message: "missing auth_signature"}
	}
	ts, err := strconv.ParseInt(tsValue, 10, 64)
	if err != nil {
		return &Error{Code: CodeUnauthorized, Message: "missing or invalid auth_timestamp"}
	}
	if d := now.Sub(time.Unix(ts, 0)); d > RequestTimestampWindow || d < -RequestTimestampWindow {
		return &Error{Code: CodeUnauthorized, Message: "auth_timestamp is more than 600 s from the server's time"}
	}
	if version != "" && version != RequestAuthVersion {
		return &Error{Code: CodeUnauthorized, Message: "unsupported auth_version"}
	}
	// A body needs its MD5; a body_md5 sent without a body must be the
	// empty body's, or a signed request could be replayed with its body
	// dropped.
	if (len(body) > 0 || bodyMD5 != "") && !strings.EqualFold(bodyMD5, BodyMD5(body)) {
		return &Error{Code: CodeUnauthorized, Message: "body_md5 does not match the body"}
	}
	if !VerifyAuth(secret, RequestStringToSign(method, path, query), sig) {
		return &Error{Code: CodeUnauthorized, Message: "invalid auth_signature"}
	}
	return nil
}

// singleValue reads a parameter whatever the case of its key; ok is false
// when it is given more than once (under one key or several): which copy
// was signed would be ambiguous.
func singleValue(query url.Values, key string) (v string, ok bool) {
	n := 0
	for k, vs := range query {
		if strings.EqualFold(k, key) {
			n += len(vs)
			if len(vs) > 0 {
				v = vs[0]
			}
		}
	}
	return v, n <= 1
}
