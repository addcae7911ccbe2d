package channels_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestSubjects(t *testing.T) {
	ch := "presence-a.b@c,d;e"
	tok := channels.SubjectToken(ch)
	if strings.ContainsAny(tok, ".*> ") {
		t.Fatalf("token %q is not subject-safe", tok)
	}
	if got := channels.MessageSubject(0, "app-1", ch); got != "herald.msg.0.app-1."+tok {
		t.Fatalf("MessageSubject = %q", got)
	}
	live := channels.LiveSubject("app-1", ch)
	app, back, err := channels.ParseLiveSubject(live)
	if err != nil || app != "app-1" || back != ch {
		t.Fatalf("ParseLiveSubject(%q) = %q %q %v", live, app, back, err)
	}
	for _, bad := range []string{"herald.msg.0.a.b", "herald.live.a", "herald.live.a.b.c", "herald.live.a.!!"} {
		if _, _, err := channels.ParseLiveSubject(bad); err == nil {
			t.Errorf("ParseLiveSubject(%q) accepted", bad)
		}
	}
}

func FuzzSubjectToken(f *testing.F) {
	for _, s := range []string{"", "a", "a.b", "\x00\xff", "#server-to-user-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := channels.SubjectToken(s)
		if strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Fatalf("unsafe token %q", tok)
		}
		back, err := channels.ParseSubjectToken(tok)
		if err != nil || back != s {
			t.Fatalf("round trip %q -> %q -> %q, %v", s, tok, back, err)
		}
	})
}
