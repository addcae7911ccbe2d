package channels_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestParseChannel(t *testing.T) {
	cases := []struct {
		name  string
		kind  channels.Kind
		cache bool
		ok    bool
	}{
		{"news", channels.KindPublic, false, true},
		{"a-b_c=d@e,f.g;h", channels.KindPublic, false, true},
		{"private-chat", channels.KindPrivate, false, true},
		{"private-encrypted-chat", channels.KindPrivateEncrypted, false, true},
		{"private-encrypted-cache-x", channels.KindPrivateEncrypted, true, true},
		{"private-cache-x", channels.KindPrivate, true, true},
		{"presence-room", channels.KindPresence, false, true},
		{"presence-cache-room", channels.KindPresence, true, true},
		{"cache-scores", channels.KindPublic, true, true},
		{"#server-to-user-42", channels.KindUser, false, true},
		{"privatechat", channels.KindPublic, false, true},
		{"xprivate-chat", channels.KindPublic, false, true},
		{"", 0, false, false},
		{"#other", 0, false, false},
		{"#server-to-user-", 0, false, false},
		{"has space", 0, false, false},
		{"star*", 0, false, false},
		{"gt>", 0, false, false},
		{"ünicode", 0, false, false},
		{strings.Repeat("a", 200), channels.KindPublic, false, true},
		{strings.Repeat("a", 201), 0, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := channels.ParseChannel(c.name)
			if !c.ok {
				if !errors.Is(err, channels.ErrBadRequest) {
					t.Fatalf("ParseChannel(%q) err = %v, want bad request", c.name, err)
				}
				return
			}
			if err != nil || ch.Kind != c.kind || ch.Cache != c.cache {
				t.Fatalf("ParseChannel(%q) = %+v, %v; want kind %v cache %v", c.name, ch, err, c.kind, c.cache)
			}
		})
	}
}

func TestChannelRules(t *testing.T) {
	must := func(n string) channels.Channel {
		c, err := channels.ParseChannel(n)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if must("news").NeedsAuth() || !must("private-x").NeedsAuth() || !must("#server-to-user-1").NeedsAuth() {
		t.Fatal("NeedsAuth wrong")
	}
	if must("news").AllowsClientEvents() || must("private-encrypted-x").AllowsClientEvents() ||
		!must("private-x").AllowsClientEvents() || !must("presence-x").AllowsClientEvents() {
		t.Fatal("AllowsClientEvents wrong")
	}
	if got := must("#server-to-user-u.1").UserID(); got != "u.1" {
		t.Fatalf("UserID = %q", got)
	}
}

func TestValidateEventName(t *testing.T) {
	for name, ok := range map[string]bool{
		"my-event": true, "client-typing": true, "": false,
		strings.Repeat("e", 201): false, "bad\x00": false, "tab\t": false, "\xff": false,
		strings.Repeat("é", 100): true, strings.Repeat("é", 101): false,
		// The servers' own namespaces, exactly: a spoofed roster change
		// or ack must never reach a subscriber.
		"pusher:member_removed": false, "pusher_internal:member_removed": false,
		"pusher_internal:subscription_succeeded": false, "pusher:": false,
		"herald:refresh": false, "herald_internal:ack": false,
		"pusher": true, "pusher-event": true, "Pusher:x": true, "heraldry:x": true, "client-pusher:x": true,
	} {
		if err := channels.ValidateEventName(name); (err == nil) != ok {
			t.Errorf("ValidateEventName(%q) = %v", name, err)
		}
	}
}

func FuzzParseChannel(f *testing.F) {
	for _, s := range []string{"news", "private-encrypted-cache-x", "#server-to-user-1", "a.b", "", "#", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := channels.ParseChannel(name)
		if err != nil {
			return
		}
		if c.Name != name || len(name) > channels.MaxChannelNameLen {
			t.Fatalf("accepted %q as %+v", name, c)
		}
		// An accepted name must survive the subject encoding.
		back, err := channels.ParseSubjectToken(channels.SubjectToken(name))
		if err != nil || back != name {
			t.Fatalf("subject token round trip of %q = %q, %v", name, back, err)
		}
	})
}
