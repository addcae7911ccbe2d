package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// userChannelPrefix names the signed-in user's channel.
const userChannelPrefix = "#server-to-user-"

// userSession is the signed-in user: signed in again on each connection.
type userSession struct {
	mu     sync.Mutex
	want   bool
	waiter chan error // the SignIn waiting for its answer
	data   json.RawMessage
}

func (u *userSession) wanted() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.want
}

// answer settles the waiting SignIn, if any.
func (u *userSession) answer(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.waiter != nil {
		u.waiter <- err
		u.waiter = nil
	}
}

func (u *userSession) refused(e *ServerError) { u.answer(e) }

func (u *userSession) fail(err error) {
	u.mu.Lock()
	u.want = false
	u.mu.Unlock()
	u.answer(err)
}

// SignIn signs the connection in as the user Config.UserAuthenticator
// vouches for (pusher:signin) and returns the user's channel, where
// events sent to the user arrive. The client signs in again after each
// reconnection. A refused sign-in closes the connection with 4009.
func (c *Client) SignIn(ctx context.Context) (*Subscription, error) {
	if c.cfg.UserAuthenticator == nil {
		return nil, errors.New("realtime: SignIn needs Config.UserAuthenticator")
	}
	c.mu.Lock()
	if c.user == nil {
		c.user = &userSession{}
	}
	u := c.user
	c.mu.Unlock()
	wait := make(chan error, 1)
	u.mu.Lock()
	u.want = true
	u.waiter = wait
	u.mu.Unlock()
	l, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.signinOn(l, u); err != nil {
		u.answer(err)
	}
	select {
	case err := <-wait:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		u.answer(ctx.Err())
		return nil, fmt.Errorf("realtime: sign in: %w", ctx.Err())
	}
	u.mu.Lock()
	data := u.data
	u.mu.Unlock()
	var d struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("realtime: sign in: user_data: %w", err)
	}
	return c.subscribe(ctx, userChannelPrefix+userID(d.ID), SubscribeOptions{}, true)
}

// signinOn sends pusher:signin on l.
func (c *Client) signinOn(l *link, u *userSession) error {
	ctx, cancel := context.WithTimeout(l.ctx, c.cfg.ConnectTimeout)
	defer cancel()
	a, err := c.cfg.UserAuthenticator(ctx, l.socketID)
	if err != nil {
		return fmt.Errorf("realtime: user authenticator: %w", err)
	}
	return c.send(l, evSignin, "", map[string]string{"auth": a.Auth, "user_data": a.UserData})
}

// onSignedIn: the server accepted the sign-in; after a reconnection the
// user channel is subscribed again (it needs the sign-in first).
func (c *Client) onSignedIn(l *link, f frame) {
	var d struct {
		UserData string `json:"user_data"`
	}
	_ = f.decodeData(&d)
	c.mu.Lock()
	u := c.user
	for _, s := range c.subs {
		if s.userChannel && c.link == l {
			c.queueLocked(s.name, newOp(l, s))
		}
	}
	c.mu.Unlock()
	if u == nil {
		return
	}
	u.mu.Lock()
	u.data = json.RawMessage(d.UserData)
	u.mu.Unlock()
	u.answer(nil)
}
