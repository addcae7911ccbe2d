package realtime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A resume the server answers with reset:true (the position is beyond
// everything it stores: its stream was reset) makes the subscription
// forget its position, so that the new stream's lower serials arrive.
func TestResumeResetForgetsThePosition(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, nil)
	first := n.accept(t)
	s, err := subscribeFake(t, c, first, "news")
	if err != nil {
		t.Fatal(err)
	}
	first.send("ev", "news", "old", 500)
	if m := <-s.Messages(); m.Serial != 500 {
		t.Fatalf("got %+v", m)
	}
	first.closeWith(1006)
	second := n.accept(t)
	if f := second.expect(t, evSubscribe); !strings.Contains(string(f.Data), `"resume_from":500`) {
		t.Fatalf("resubscribe %s", f.Data)
	}
	second.send(evSubscriptionSucceeded, "news", "{}", 0)
	second.send(evResumeResult, "news", `{"recovered":false,"reset":true}`, 0)
	second.send("ev", "news", "new", 3)
	if m := <-s.Messages(); m.Event != EventResumed || m.Recovered || !m.Reset {
		t.Fatalf("got %+v, want a reset resume", m)
	}
	if m := <-s.Messages(); m.Serial != 3 || string(m.Data) != "new" {
		t.Fatalf("got %+v, want the new stream's serial 3", m)
	}
	if got := s.LastSerial(); got != 3 {
		t.Fatalf("LastSerial = %d", got)
	}
}

// A terminate_connections of the user is final: no fresh token, no
// reconnection, and an error that says so.
func TestTerminatedIsFinal(t *testing.T) {
	n := newFakeNet()
	tokens := 0
	c := fakeClient(t, n, func(c *Config) {
		c.TokenProvider = func(context.Context) (string, error) {
			tokens++
			return "t", nil
		}
	})
	s := n.accept(t)
	waitState(t, c, StateConnected)
	s.send(evError, "", `{"code":4009,"message":"connection terminated by the application","reason":"terminated"}`, 0)
	s.closeWith(4009)
	sc := waitState(t, c, StateClosed)
	var ce *CloseError
	if !errors.Is(sc.Err, ErrTerminated) || !errors.As(sc.Err, &ce) || ce.Code != 4009 || !errors.Is(c.Err(), ErrTerminated) {
		t.Fatalf("closed with %v", sc.Err)
	}
	n.noDial(t, 100*time.Millisecond)
	if tokens != 1 {
		t.Fatalf("the token provider was asked %d times", tokens)
	}
}

// Dial that gives up says why the attempts failed, not only that its
// context ended.
func TestDialReportsTheLastAttemptsCause(t *testing.T) {
	for name, mod := range map[string]func(cfg *Config, fail func() error){
		"unreachable": func(cfg *Config, fail func() error) {
			cfg.Dialer = func(context.Context, string, http.Header) (Socket, error) { return nil, fail() }
		},
		"token provider": func(cfg *Config, fail func() error) {
			cfg.TokenProvider = func(context.Context) (string, error) { return "", fail() }
		},
	} {
		t.Run(name, func(t *testing.T) {
			cause := errors.New("connection refused")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			attempts := 0
			cfg := Config{Host: "fake", Key: "k", Dialer: newFakeNet().dial, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond}
			// The second attempt ends the dial: the first one's cause is
			// known by then.
			mod(&cfg, func() error {
				if attempts++; attempts == 2 {
					cancel()
				}
				return cause
			})
			_, err := Dial(ctx, cfg)
			if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
				t.Fatalf("Dial = %v, want the context's error and the cause", err)
			}
		})
	}
}
