package presence_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestMembersAcrossGateways follows one user's connections on two
// gateways: member_added only for the first connection cluster-wide,
// member_removed only for the last.
func TestMembersAcrossGateways(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", nil)
	b := startGateway(t, srv, "gwB", nil)
	const ch = "presence-room.1@x,y;z"
	recA, recB := newRecorder(), newRecorder()
	ra := a.open(t, ch, recA)
	rb := b.open(t, ch, recB)

	a.join(t, ch, "1.1", "u1", `{"name":"Ann"}`)
	// The joiner's own gateway has it at once: subscription_succeeded
	// goes out right after Join returns.
	if got := userIDs(ra); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("A members right after Join = %v", got)
	}
	recA.expect(t, "+u1 gwA/1.1")
	recB.expect(t, "+u1 gwA/1.1")
	if m := rb.Members(); len(m) != 1 || m[0].UserID != "u1" || string(m[0].UserInfo) != `{"name":"Ann"}` {
		t.Fatalf("B members = %+v", m)
	}

	b.join(t, ch, "2.1", "u1", `{"name":"Ann on B"}`) // second connection: no event
	barrier(t, a, ch, recA, recB)
	a.leave(t, ch, "1.1") // first leaves, one remains: no event
	barrier(t, b, ch, recA, recB)
	for name, r := range map[string]*presence.Roster{"A": ra, "B": rb} {
		if r.UserCount() != 1 || !r.Has("u1") {
			t.Fatalf("%s: count %d, has u1 %v", name, r.UserCount(), r.Has("u1"))
		}
		// Info is the first-seen connection's, even after it left.
		if m := r.Members(); string(m[0].UserInfo) != `{"name":"Ann"}` {
			t.Fatalf("%s info = %s", name, m[0].UserInfo)
		}
	}

	a.join(t, ch, "1.2", "u2", "")
	recA.expect(t, "+u2 gwA/1.2")
	recB.expect(t, "+u2 gwA/1.2")
	if got := userIDs(rb); !slices.Equal(got, []string{"u1", "u2"}) {
		t.Fatalf("B members = %v", got)
	}
	if m := rb.Members(); m[1].UserInfo != nil {
		t.Fatalf("u2 info = %s, want nil", m[1].UserInfo)
	}

	b.leave(t, ch, "2.1") // u1's last connection
	recA.expect(t, "-u1")
	recB.expect(t, "-u1")
	a.leave(t, ch, "1.2")
	recA.expect(t, "-u2")
	recB.expect(t, "-u2")
	for name, r := range map[string]*presence.Roster{"A": ra, "B": rb} {
		if r.UserCount() != 0 || r.Has("u1") || len(r.Members()) != 0 {
			t.Fatalf("%s not empty: %v", name, userIDs(r))
		}
	}
	// Leaving twice is not an error and changes nothing.
	a.leave(t, ch, "1.2")
	barrier(t, a, ch, recA, recB)
}

// TestOpenSnapshot opens a roster on a channel that already has more
// connections than one Direct Get batch, and than multi_last's 1024
// subjects, some of them deleted.
func TestOpenSnapshot(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", nil)
	b := startGateway(t, srv, "gwB", func(c *presence.Config) { c.SnapshotBatch = 0 }) // default batch
	const ch = "presence-big"
	const users, extra, left = 1030, 70, 50
	// infos lists, per user, the infos its remaining connections carry.
	infos := make(map[string][]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				user, info := fmt.Sprintf("user%04d", i%users), fmt.Sprintf(`{"n":%d}`, i)
				if err := a.Join(t.Context(), testApp, ch, fmt.Sprintf("%d.1", i), presence.Member{UserID: user, UserInfo: []byte(info)}); err != nil {
					t.Errorf("join %d: %v", i, err)
					return
				}
				mu.Lock()
				infos[user] = append(infos[user], info)
				mu.Unlock()
			}
		})
	}
	for i := range users + extra {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	// Some users with two connections lose one; some with one lose it.
	for i := range left {
		a.leave(t, ch, fmt.Sprintf("%d.1", users+i))
		infos[fmt.Sprintf("user%04d", i)] = []string{fmt.Sprintf(`{"n":%d}`, i)}
		a.leave(t, ch, fmt.Sprintf("%d.1", users-left+i))
		delete(infos, fmt.Sprintf("user%04d", users-left+i))
	}
	if presence.DefaultSnapshotBatch >= users {
		t.Fatalf("batch %d does not split the snapshot", presence.DefaultSnapshotBatch)
	}

	rec := newRecorder()
	rb := b.open(t, ch, rec)
	got := rb.Members()
	if len(got) != len(infos) || rb.UserCount() != len(infos) {
		t.Fatalf("snapshot has %d users (count %d), want %d", len(got), rb.UserCount(), len(infos))
	}
	if !slices.IsSortedFunc(got, func(x, y presence.Member) int { return strings.Compare(x.UserID, y.UserID) }) {
		t.Fatal("members not sorted by user id")
	}
	for _, m := range got {
		// A user with two connections shows the info of either.
		if !slices.Contains(infos[m.UserID], string(m.UserInfo)) {
			t.Fatalf("member %s info %s, want one of %q", m.UserID, m.UserInfo, infos[m.UserID])
		}
	}
	// The snapshot itself reports nothing.
	barrier(t, a, ch, rec)
}

// TestOpenTwice: one roster per channel per gateway.
func TestOpenTwice(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", nil)
	r := a.open(t, "presence-x", nil)
	if _, err := a.Open(t.Context(), testApp, "presence-x", nil); !errors.Is(err, presence.ErrAlreadyOpen) {
		t.Fatalf("second Open: %v, want ErrAlreadyOpen", err)
	}
	a.join(t, "presence-x", "1.1", "u1", "")
	r.Close()
	r.Close() // idempotent
	r2 := a.open(t, "presence-x", nil)
	if !r2.Has("u1") {
		t.Fatal("reopened roster misses u1")
	}
}

// TestChannelNames: names with characters that are special in subjects
// and KV keys are encoded and do not collide.
func TestChannelNames(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", nil)
	b := startGateway(t, srv, "gwB", nil)
	names := []string{"presence-a.b", "presence-a", "presence-a@b,c;d", "presence-a=b_c-d", "#presence-x", "presence-*", "presence->"}
	rosters := make([]*presence.Roster, len(names))
	for i, name := range names {
		rosters[i] = b.open(t, name, nil)
	}
	for i, name := range names {
		a.join(t, name, fmt.Sprintf("1.%d", i), fmt.Sprintf("user-%d", i), "")
	}
	for i, name := range names {
		want := []string{fmt.Sprintf("user-%d", i)}
		testinfra.WaitUntil(t, "members of "+name, func() bool { return slices.Equal(userIDs(rosters[i]), want) })
	}
	// The key is <app>.<base64url channel>.<gateway>.<socket with _>.
	key := testApp + "." + channels.SubjectToken("presence-a.b") + ".gwA.1_0"
	if _, err := memberKV(t, a).Get(t.Context(), key); err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
}

// TestValidation: ids with characters outside their alphabets, bad users
// and bad info are rejected before anything is written.
func TestValidation(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", func(c *presence.Config) { c.MaxUserInfoBytes = 64 })
	ok := presence.Member{UserID: "u1"}
	tests := []struct {
		name, app, channel, socket string
		m                          presence.Member
		tooLarge                   bool
	}{
		{"socket with dot twice", testApp, "presence-a", "1.2.3", ok, false},
		{"socket with letters", testApp, "presence-a", "1a.2", ok, false},
		{"socket with underscore", testApp, "presence-a", "1_2", ok, false},
		{"socket with wildcard", testApp, "presence-a", "1.*", ok, false},
		{"socket with space", testApp, "presence-a", "1.2 ", ok, false},
		{"empty socket", testApp, "presence-a", "", ok, false},
		{"long socket", testApp, "presence-a", strings.Repeat("1", 40) + "." + strings.Repeat("2", 40), ok, false},
		{"app with dot", "app.1", "presence-a", "1.2", ok, false},
		{"app with wildcard", "app>", "presence-a", "1.2", ok, false},
		{"empty channel", testApp, "", "1.2", ok, false},
		{"long channel", testApp, strings.Repeat("c", channels.MaxChannelNameLen+1), "1.2", ok, false},
		{"empty user", testApp, "presence-a", "1.2", presence.Member{}, false},
		{"long user", testApp, "presence-a", "1.2", presence.Member{UserID: strings.Repeat("é", presence.MaxUserIDLen+1)}, false},
		{"invalid utf-8 user", testApp, "presence-a", "1.2", presence.Member{UserID: "\xff"}, false},
		{"info not JSON", testApp, "presence-a", "1.2", presence.Member{UserID: "u", UserInfo: []byte(`{`)}, false},
		{"info too large", testApp, "presence-a", "1.2", presence.Member{UserID: "u", UserInfo: []byte(`"` + strings.Repeat("x", 64) + `"`)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Join(t.Context(), tt.app, tt.channel, tt.socket, tt.m)
			want := channels.ErrBadRequest
			if tt.tooLarge {
				want = &channels.Error{Code: channels.CodeTooLarge}
			}
			if !errors.Is(err, want) {
				t.Fatalf("Join = %v, want %v", err, want)
			}
		})
	}
	// Valid edge cases pass: 128-character user ids of any characters.
	a.join(t, "presence-a", "1.2", strings.Repeat("é", presence.MaxUserIDLen), "")
	a.join(t, "presence-a", "1.3", "user with spaces.and*wild>cards", `{"a":[1,2]}`)

	for _, id := range []string{"", "gw.1", "gw 1", "gw*", "gw>", "gw/1", strings.Repeat("g", gateways.MaxIDLen+1)} {
		if err := gateways.ValidateGatewayID(id); !errors.Is(err, channels.ErrBadRequest) {
			t.Errorf("ValidateGatewayID(%q) = %v", id, err)
		}
		cfg := testConfig()
		cfg.JS, cfg.NC, cfg.GatewayID = testinfra.JetStream(t, a.jsnc), a.nc, id
		if _, err := presence.New(t.Context(), cfg); err == nil {
			t.Errorf("New accepted gateway id %q", id)
		}
	}
}

// TestGatewayIDInUse: a second process with a live gateway's id is refused.
func TestGatewayIDInUse(t *testing.T) {
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", nil)
	cfg := testConfig()
	cfg.JS, cfg.NC, cfg.GatewayID = testinfra.JetStream(t, a.jsnc), a.nc, "gwA"
	if _, err := presence.New(t.Context(), cfg); !errors.Is(err, presence.ErrGatewayIDInUse) {
		t.Fatalf("New = %v, want ErrGatewayIDInUse", err)
	}
}
