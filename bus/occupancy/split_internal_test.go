package occupancy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	many := func(n int, id string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%d", id, i)
		}
		return out
	}
	cases := []struct {
		name  string
		chans []ChannelCount
		limit int
		parts int // expected number of parts; 0 means more than one
	}{
		{"empty answer is one part", nil, 1024, 1},
		{"small answer is one part", []ChannelCount{{Name: "a", Subscriptions: 1}, {Name: "b", Subscriptions: 2}}, 1024, 1},
		{"many channels", func() []ChannelCount {
			out := make([]ChannelCount, 100)
			for i := range out {
				out[i] = ChannelCount{Name: fmt.Sprintf("channel-%d", i), Subscriptions: i + 1}
			}
			return out
		}(), 1024, 0},
		{"one channel, many users", []ChannelCount{{Name: "presence-x", Subscriptions: 500, UserIDs: many(500, "user")}}, 2048, 0},
		{"escaping users", []ChannelCount{{Name: "presence-x", Subscriptions: 50, UserIDs: many(50, strings.Repeat("<\"\x01", 20))}}, 2048, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts := split(tc.chans, tc.limit)
			if tc.parts > 0 && len(parts) != tc.parts || tc.parts == 0 && len(parts) < 2 {
				t.Fatalf("%d parts", len(parts))
			}
			subs := map[string]int{}
			users := map[string]map[string]bool{}
			for i, p := range parts {
				b, _ := json.Marshal(reply{GatewayID: "gw", Part: i, Final: i == len(parts)-1, Channels: p})
				if len(b) > tc.limit+64 {
					t.Fatalf("part %d is %d bytes, limit %d", i, len(b), tc.limit)
				}
				for _, cc := range p {
					subs[cc.Name] += cc.Subscriptions
					if users[cc.Name] == nil {
						users[cc.Name] = map[string]bool{}
					}
					for _, id := range cc.UserIDs {
						users[cc.Name][id] = true
					}
				}
			}
			for _, cc := range tc.chans {
				if subs[cc.Name] != cc.Subscriptions || len(users[cc.Name]) != len(cc.UserIDs) {
					t.Fatalf("%s: %d subscriptions, %d users after split; want %d, %d",
						cc.Name, subs[cc.Name], len(users[cc.Name]), cc.Subscriptions, len(cc.UserIDs))
				}
			}
		})
	}
}
