package channels_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestChannelAuth(t *testing.T) {
	const key, secret = "app-key", "app-secret"
	data := `{"user_id":"1","user_info":{"name":"A"}}`
	msg := channels.ChannelStringToSign("123.456", "presence-room", data)
	if msg != "123.456:presence-room:"+data {
		t.Fatalf("string to sign = %q", msg)
	}
	auth := channels.SignAuth(key, secret, msg)
	k, sig, ok := channels.SplitAuth(auth)
	if !ok || k != key {
		t.Fatalf("SplitAuth(%q) = %q %q %v", auth, k, sig, ok)
	}
	if !channels.VerifyAuth(secret, msg, sig) || !channels.VerifyAuth(secret, msg, strings.ToUpper(sig)) {
		t.Fatal("valid signature refused")
	}
	// The exact received channel_data counts: re-serialised JSON must fail.
	other := channels.ChannelStringToSign("123.456", "presence-room", `{"user_id": "1","user_info":{"name":"A"}}`)
	if channels.VerifyAuth(secret, other, sig) || channels.VerifyAuth("x", msg, sig) {
		t.Fatal("invalid signature accepted")
	}
	if got := channels.UserStringToSign("1.2", `{"id":"u"}`); got != `1.2::user::{"id":"u"}` {
		t.Fatalf("UserStringToSign = %q", got)
	}
	for _, bad := range []string{"", "nocolon", ":sig", "key:"} {
		if _, _, ok := channels.SplitAuth(bad); ok {
			t.Errorf("SplitAuth(%q) ok", bad)
		}
	}
}

func TestValidSocketID(t *testing.T) {
	for id, ok := range map[string]bool{"123.456": true, "1.2": true, "": false, "1.": false, "a.1": false, "1.2.3": false, "1.2\n": false} {
		if channels.ValidSocketID(id) != ok {
			t.Errorf("ValidSocketID(%q) != %v", id, ok)
		}
	}
}
