package channels_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
)

func TestMatchPattern(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything", true},
		{"*", "", true},
		{"private-chat-*", "private-chat-42", true},
		{"private-chat-*", "private-chat-", true},
		{"private-chat-*", "private-chatter", false},
		{"private-chat-*", "xprivate-chat-1", false},
		{"news", "news", true},
		{"news", "news2", false},
		{"*-room-*", "presence-room-7", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a**", "a", true},
		{"#server-to-user-*", "#server-to-user-u1", true},
	}
	for _, c := range cases {
		if got := channels.MatchPattern(c.pattern, c.name); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

func TestCapabilitiesAllows(t *testing.T) {
	c, err := channels.ParseCapabilities([]byte(`{"private-chat-*":["subscribe","publish"],"presence-room-*":["presence"],"notifications":["subscribe"],"archive-*":["history"]}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		channel string
		op      channels.Operation
		want    bool
	}{
		{"private-chat-1", channels.OpSubscribe, true},
		{"private-chat-1", channels.OpPublish, true},
		{"private-chat-1", channels.OpHistory, false},
		{"presence-room-9", channels.OpPresence, true},
		{"presence-room-9", channels.OpSubscribe, true}, // presence implies subscribe
		{"presence-room-9", channels.OpPublish, false},
		{"notifications", channels.OpSubscribe, true},
		{"notifications-x", channels.OpSubscribe, false},
		{"archive-2026", channels.OpHistory, true},
		{"private-other", channels.OpSubscribe, false},
	}
	for _, tc := range cases {
		if got := c.Allows(tc.channel, tc.op); got != tc.want {
			t.Errorf("Allows(%q, %s) = %v", tc.channel, tc.op, got)
		}
	}
	// presence on a non-presence channel grants nothing else.
	c2, _ := channels.ParseCapabilities([]byte(`{"*":["presence"]}`))
	if c2.Allows("private-x", channels.OpSubscribe) {
		t.Error("presence granted subscribe on a private channel")
	}
}

func TestParseCapabilitiesRejects(t *testing.T) {
	for _, raw := range []string{`[]`, `{"":["subscribe"]}`, `{"a b":["subscribe"]}`, `{"x":[]}`, `{"x":["admin"]}`,
		`{"` + strings.Repeat("a", 201) + `":["subscribe"]}`, `not json`} {
		if _, err := channels.ParseCapabilities([]byte(raw)); !errors.Is(err, channels.ErrBadRequest) {
			t.Errorf("ParseCapabilities(%s) = %v", raw, err)
		}
	}
}

// FuzzMatchPattern checks the matcher against a regular-expression
// reference.
func FuzzMatchPattern(f *testing.F) {
	for _, s := range [][2]string{{"*", "x"}, {"a*b*c", "aXbYc"}, {"private-*", "private-1"}, {"***a", "aaaa"}, {"a.b", "axb"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// Patterns are ASCII once validated; the reference needs UTF-8.
		if len(pattern) > 64 || len(name) > 64 || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if got, want := channels.MatchPattern(pattern, name), re.MatchString(name); got != want {
			t.Fatalf("MatchPattern(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	})
}
