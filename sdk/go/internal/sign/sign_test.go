package sign_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/internal/sign"
)

// Pusher's documented request-signing test vector, as docs/protocol.md
// ("Pusher compatibility") gives it and the server checks it.
const (
	vecKey    = "278d425bdf160c739803"
	vecSecret = "7ad3773142a6692b25b8"
	vecBody   = `{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`
	vecMD5    = "ec365a775a4cd0599faeb73354201b6f"
	vecSig    = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
	vecTS     = 1353088179
)

func TestRequestTestVector(t *testing.T) {
	if got := sign.BodyMD5([]byte(vecBody)); got != vecMD5 {
		t.Fatalf("BodyMD5 = %s, want %s", got, vecMD5)
	}
	q := sign.Request(vecKey, vecSecret, "post", "/apps/3/events", nil, []byte(vecBody), time.Unix(vecTS, 0))
	want := url.Values{
		"auth_key": {vecKey}, "auth_timestamp": {"1353088179"}, "auth_version": {"1.0"},
		"body_md5": {vecMD5}, "auth_signature": {vecSig},
	}
	if q.Encode() != want.Encode() {
		t.Fatalf("signed query = %s\nwant %s", q.Encode(), want.Encode())
	}
}

func TestRequestString(t *testing.T) {
	tests := []struct {
		name, method, path string
		query              url.Values
		want               string
	}{
		{"empty query", "get", "/apps/1/channels", nil, "GET\n/apps/1/channels\n"},
		{"sorted, lower-cased, signature left out", "GET", "/apps/1/channels",
			url.Values{"Info": {"user_count"}, "filter_by_prefix": {"presence-"}, "auth_signature": {"x"}},
			"GET\n/apps/1/channels\nfilter_by_prefix=presence-&info=user_count"},
		{"values not escaped", "GET", "/apps/1/channels/a",
			url.Values{"info": {"user_count,subscription_count"}, "q": {"a b&c"}},
			"GET\n/apps/1/channels/a\ninfo=user_count,subscription_count&q=a b&c"},
		{"repeated values joined", "GET", "/p", url.Values{"a": {"1", "2"}, "A": {"3"}}, "GET\n/p\na=3,1,2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sign.RequestString(tt.method, tt.path, tt.query); got != tt.want {
				t.Errorf("RequestString = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequestWithoutBodyHasNoMD5(t *testing.T) {
	q := sign.Request("k", "s", "GET", "/apps/1/channels", url.Values{"info": {"user_count"}}, nil, time.Unix(1, 0))
	if q.Has(sign.ParamBodyMD5) {
		t.Fatalf("body_md5 on a request without body: %s", q.Encode())
	}
	if want := sign.HMACHex("s", "GET\n/apps/1/channels\nauth_key=k&auth_timestamp=1&auth_version=1.0&info=user_count"); q.Get(sign.ParamAuthSignature) != want {
		t.Fatalf("auth_signature = %s, want %s", q.Get(sign.ParamAuthSignature), want)
	}
}

func TestChannelAndUserAuth(t *testing.T) {
	// Pusher's documented channel-authorization examples (pusher.com
	// docs, "Generating the authentication string"): key 278d425bdf160c739803,
	// secret 7ad3773142a6692b25b8.
	tests := []struct {
		name, got, want string
	}{
		{"private", sign.ChannelAuth(vecKey, vecSecret, "1234.1234", "private-foobar", ""),
			vecKey + ":58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"},
		{"presence", sign.ChannelAuth(vecKey, vecSecret, "1234.1234", "presence-foobar", `{"user_id":10,"user_info":{"name":"Mr. Channels"}}`),
			vecKey + ":31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"},
		{"user string", sign.UserString("1.2", `{"id":"u"}`), `1.2::user::{"id":"u"}`},
		{"channel string", sign.ChannelString("1.2", "presence-a", `{"user_id":"u"}`), `1.2:presence-a:{"user_id":"u"}`},
		{"user auth", sign.UserAuth("k", "s", "1.2", `{"id":"u"}`), "k:" + sign.HMACHex("s", `1.2::user::{"id":"u"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	sig := sign.HMACHex("s", "body")
	tests := []struct {
		name, secret, msg, sig string
		want                   bool
	}{
		{"match", "s", "body", sig, true},
		{"upper-case hex", "s", "body", toUpper(sig), true},
		{"other body", "s", "bodY", sig, false},
		{"other secret", "t", "body", sig, false},
		{"empty", "s", "body", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sign.Equal(tt.secret, []byte(tt.msg), tt.sig); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
