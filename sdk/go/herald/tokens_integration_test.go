package herald_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
)

// TestTokensOpenTheirChannels connects with a token from IssueToken and
// one from SignToken: each may join the private channels its capabilities
// name, and no other.
func TestTokensOpenTheirChannels(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	req := herald.TokenRequest{
		UserID:       "ann",
		Capabilities: herald.Capabilities{"private-team-*": {herald.OpSubscribe}, "presence-team-*": {herald.OpPresence}},
		TTL:          10 * time.Minute,
	}
	issued, err := a.client.IssueToken(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(issued.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("issued token expires at %s", issued.ExpiresAt)
	}
	signed, err := a.client.SignToken(req)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"issued": issued.Token, "signed": signed.Token} {
		t.Run(name, func(t *testing.T) {
			p := a.dial(t, "token="+url.QueryEscape(tok))
			// A token connection joins what its capabilities allow with no
			// signature.
			if err := p.Subscribe("private-team-1", []byte(`{"auth":""}`), wait); err != nil {
				t.Fatal(err)
			}
			if err := p.Subscribe("presence-team-1", []byte(`{"auth":""}`), wait); err != nil {
				t.Fatal(err)
			}
			users, err := a.client.ChannelUsers(ctx(t), "presence-team-1")
			if err != nil || len(users) != 1 || users[0] != "ann" {
				t.Fatalf("presence members = %v, %v", users, err)
			}
			err = p.Subscribe("private-other", []byte(`{"auth":""}`), wait)
			if err == nil {
				t.Fatal("a channel outside the capabilities was joined")
			}
		})
	}

	// A token signed with another secret is refused at connect.
	forger, err := herald.New(herald.Config{AppID: a.app.ID, Key: a.app.Key, Secret: "forged", BaseURL: a.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := forger.SignToken(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = heraldtest.DialPusher(ctx(t), a.srv.URL, a.app.Key, "token="+url.QueryEscape(bad.Token))
	var ce *heraldtest.CloseError
	if !errors.As(err, &ce) && (err == nil || !isPusherError(err)) {
		t.Fatalf("forged token: %v, want a refusal", err)
	}

	if _, err := a.client.IssueToken(ctx(t), herald.TokenRequest{Capabilities: herald.Capabilities{"x": {"fly"}}}); !errors.Is(err, herald.ErrBadRequest) {
		t.Fatalf("unknown operation: %v", err)
	}
}
