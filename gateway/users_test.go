package gateway

import (
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/channels"
)

// userConn is a connection of app "a" with a token of sub (none if ""),
// signed in as signin (not if "") before it registers.
func userConn(g *Gateway, sub, signin string) *conn {
	c := &conn{gw: g, appID: "a"}
	if sub != "" {
		c.token.Store(&connToken{claims: &channels.TokenClaims{App: "a", RegisteredClaims: jwt.RegisteredClaims{Subject: sub}}})
	}
	if signin != "" {
		c.user = &signedInUser{id: signin}
	}
	return c
}

// userConns returns a snapshot of the app's connections of user.
func userConns(g *Gateway, appID, user string) []*conn {
	s := g.connShard(appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userConnsLocked(appID, user)
}

// signIn does what handleSignin does to the index.
func signIn(g *Gateway, c *conn, id string) {
	c.mu.Lock()
	c.user = &signedInUser{id: id}
	c.mu.Unlock()
	g.indexSignin(c, id)
}

// The user index holds a connection under its token's sub and its
// sign-in id while it is registered, whichever comes first, and nothing
// once every connection is gone.
func TestUserIndex(t *testing.T) {
	t.Parallel()
	g := newConnTableGateway(nil, limits{})
	token := userConn(g, "u1", "")
	signedBefore := userConn(g, "", "u1")
	both := userConn(g, "u2", "u1")
	anonymous := userConn(g, "", "")
	signedAfter := userConn(g, "", "")
	signedOnceGone := userConn(g, "", "")
	for _, c := range []*conn{token, signedBefore, both, anonymous, signedAfter, signedOnceGone} {
		g.register(c)
	}
	signIn(g, signedAfter, "u1")
	g.unregister(signedOnceGone)
	signIn(g, signedOnceGone, "u1")

	for _, tc := range []struct {
		app, user string
		want      []*conn
	}{
		{"a", "u1", []*conn{token, signedBefore, both, signedAfter}},
		{"a", "u2", []*conn{both}},
		{"a", "u3", nil},
		{"b", "u1", nil},
		{"a", "", nil},
	} {
		got := userConns(g, tc.app, tc.user)
		if len(got) != len(tc.want) {
			t.Fatalf("%s/%s: %d connections, want %d", tc.app, tc.user, len(got), len(tc.want))
		}
		for _, c := range tc.want {
			if !slices.Contains(got, c) {
				t.Fatalf("%s/%s: a connection is missing", tc.app, tc.user)
			}
		}
	}

	for _, c := range []*conn{token, signedBefore, both, anonymous, signedAfter} {
		g.unregister(c)
		g.unregister(c) // a connection that closed while it registered
	}
	for i := range g.conns {
		if n := len(g.conns[i].byUser); n != 0 {
			t.Fatalf("shard %d still indexes %d users", i, n)
		}
	}
}

func TestSocketSeq(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want uint64
		ok   bool
	}{
		{"1234.5678", 5678, true},
		{"1.18446744073709551615", 1<<64 - 1, true},
		{"1234", 0, false},
		{"1234.", 0, false},
		{"1234.x", 0, false},
	} {
		if got, ok := socketSeq(tc.id); got != tc.want || ok != tc.ok {
			t.Errorf("socketSeq(%q) = %d, %v; want %d, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}
