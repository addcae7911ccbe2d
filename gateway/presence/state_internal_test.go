package presence

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"
)

// kvKeyPattern is the KV key alphabet (nats.go kv.go keyValid).
var kvKeyPattern = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)

func put(key string, seq uint64, user string) event {
	return event{key: key, seq: seq, at: time.Unix(0, 0), member: Member{UserID: user}}
}

func del(key string, seq uint64) event { return event{key: key, seq: seq, del: true} }

func render(cs []change) []string {
	var out []string
	for _, c := range cs {
		if c.added {
			out = append(out, fmt.Sprintf("+%s %s/%s", c.user, c.by.GatewayID, c.by.SocketID))
		} else {
			out = append(out, "-"+c.user)
		}
	}
	return out
}

// TestStateApply: updates are ordered by each key's sequence, so late,
// duplicate and stale updates change nothing.
func TestStateApply(t *testing.T) {
	tests := []struct {
		name   string
		events []event
		want   []string
		users  []string
	}{
		{"first connection adds", []event{put("g.1_1", 5, "u")}, []string{"+u g/1.1"}, []string{"u"}},
		{"duplicate is ignored", []event{put("g.1_1", 5, "u"), put("g.1_1", 5, "u")}, []string{"+u g/1.1"}, []string{"u"}},
		{"second connection is silent", []event{put("g.1_1", 5, "u"), put("h.2_2", 6, "u")}, []string{"+u g/1.1"}, []string{"u"}},
		{"last connection removes", []event{put("g.1_1", 5, "u"), put("h.2_2", 6, "u"), del("g.1_1", 7), del("h.2_2", 8)},
			[]string{"+u g/1.1", "-u"}, nil},
		{"stale delete is ignored", []event{put("g.1_1", 5, "u"), del("g.1_1", 4)}, []string{"+u g/1.1"}, []string{"u"}},
		{"renewal echo after delete is ignored", []event{put("g.1_1", 5, "u"), del("g.1_1", 7), put("g.1_1", 6, "u")},
			[]string{"+u g/1.1", "-u"}, nil},
		{"newer put after delete re-adds", []event{put("g.1_1", 5, "u"), del("g.1_1", 7), put("g.1_1", 8, "u")},
			[]string{"+u g/1.1", "-u", "+u g/1.1"}, []string{"u"}},
		{"delete of unknown key then older put", []event{del("g.1_1", 9), put("g.1_1", 5, "u")}, nil, nil},
		{"user change on one key", []event{put("g.1_1", 5, "u"), put("g.1_1", 6, "v")}, []string{"+u g/1.1", "-u", "+v g/1.1"}, []string{"v"}},
		{"malformed key is ignored", []event{put("g.x", 5, "u"), put("g", 6, "u")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState()
			var out []change
			for _, ev := range tt.events {
				out = s.apply(ev, time.Now(), out)
			}
			if got := render(out); !slices.Equal(got, tt.want) {
				t.Fatalf("changes = %q, want %q", got, tt.want)
			}
			var users []string
			for _, m := range s.members() {
				users = append(users, m.UserID)
			}
			if !slices.Equal(users, tt.users) {
				t.Fatalf("users = %q, want %q", users, tt.users)
			}
		})
	}
}

func TestStateSweepAndDiff(t *testing.T) {
	now := time.Now()
	s := newState()
	s.apply(event{key: "g.1_1", seq: 1, at: now.Add(-time.Hour), member: Member{UserID: "old"}}, now, nil)
	s.apply(event{key: "g.2_2", seq: 2, at: now, member: Member{UserID: "new"}}, now, nil)
	if got := render(s.sweep(now, time.Minute, nil)); !slices.Equal(got, []string{"-old"}) {
		t.Fatalf("sweep = %q", got)
	}
	// A late echo of the swept key's last write does not bring it back.
	if got := render(s.apply(event{key: "g.1_1", seq: 1, at: now, member: Member{UserID: "old"}}, now, nil)); got != nil {
		t.Fatalf("late echo = %q", got)
	}
	// Tombstones go after tombstoneTTL.
	s.sweep(now.Add(2*tombstoneTTL), time.Hour*24, nil)
	if len(s.tombs) != 0 {
		t.Fatalf("tombstones left: %v", s.tombs)
	}

	fresh := newState()
	fresh.apply(put("h.3_3", 3, "third"), now, nil)
	fresh.apply(put("h.4_4", 4, "new"), now, nil)
	if got := render(fresh.diff(s, nil)); !slices.Equal(got, []string{"+third h/3.3"}) {
		t.Fatalf("diff = %q", got)
	}
	if got := render(newState().diff(fresh, nil)); !slices.Equal(got, []string{"-new", "-third"}) {
		t.Fatalf("diff to empty = %q", got)
	}
}

func TestConnKeyRoundTrip(t *testing.T) {
	k, err := connKey("gw-1_a", "123.456")
	if err != nil || k != "gw-1_a.123_456" {
		t.Fatalf("connKey = %q, %v", k, err)
	}
	ref, ok := parseConnKey(k)
	if !ok || ref != (ConnRef{GatewayID: "gw-1_a", SocketID: "123.456"}) {
		t.Fatalf("parseConnKey = %+v, %v", ref, ok)
	}
}

// FuzzConnKey: every accepted pair encodes to a valid KV key that decodes
// back to the same pair, and parsing never accepts what encoding cannot
// produce.
func FuzzConnKey(f *testing.F) {
	f.Add("gw1", "1.2")
	f.Add("a.b", "1_2")
	f.Add("gw", "1.2.3")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, gw, sock string) {
		if ref, ok := parseConnKey(gw + "." + sock); ok {
			if k, err := connKey(ref.GatewayID, ref.SocketID); err != nil || k != gw+"."+sock {
				t.Fatalf("parsed %q.%q to %+v, which encodes to %q, %v", gw, sock, ref, k, err)
			}
		}
		k, err := connKey(gw, sock)
		if err != nil {
			return
		}
		if !kvKeyPattern.MatchString(k) {
			t.Fatalf("key %q outside the KV alphabet", k)
		}
		if ref, ok := parseConnKey(k); !ok || ref.GatewayID != gw || ref.SocketID != sock {
			t.Fatalf("round trip of %q, %q: %+v %v", gw, sock, ref, ok)
		}
	})
}
