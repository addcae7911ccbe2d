package realtime

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	errConnectTimeout   = errors.New("realtime: connect timeout")
	errHeartbeatTimeout = errors.New("realtime: heartbeat timeout")
)

// normalClosure is the WebSocket close code of a client that is done.
const normalClosure = 1000

// lost is how a connection (or an attempt) ended.
type lost struct {
	code      int // close code, or -1
	err       error
	connected bool // whether connection_established was seen
}

// run is the connection loop: one session per socket, a backoff between
// them, until Close or a close code that forbids reconnecting.
func (c *Client) run() {
	attempts := 0
	authRetried := false
	everConnected := false
	for {
		if c.ctx.Err() != nil {
			c.finish(nil)
			return
		}
		if everConnected {
			c.states.set(StateReconnecting, nil, 0)
		} else {
			c.states.set(StateConnecting, nil, 0)
		}
		l := c.session()
		if c.ctx.Err() != nil {
			c.finish(nil)
			return
		}
		if l.connected {
			everConnected = true
			attempts = 0
			authRetried = false
		}
		if l.err != nil {
			c.mu.Lock()
			c.lastErr = l.err
			c.mu.Unlock()
		}
		if se := terminated(l.err); se != nil {
			// The app ended the user's connections: a fresh token would
			// only bring the user back.
			c.finish(&CloseError{Code: se.Code, Message: se.Message, Reason: se.Reason})
			return
		}
		var delay time.Duration
		switch actionFor(l.code) {
		case actFail:
			c.finish(&CloseError{Code: l.code, Message: errText(l.err)})
			return
		case actToken:
			if c.cfg.TokenProvider == nil || authRetried {
				c.finish(&CloseError{Code: l.code, Message: errText(l.err)})
				return
			}
			// Once more with a fresh token before giving up.
			authRetried = true
			c.mu.Lock()
			c.token = ""
			c.mu.Unlock()
		case actNow:
			if attempts > 0 {
				delay = c.bo.delay(attempts)
			}
		case actBackoff:
			delay = c.bo.delay(attempts)
			if l.code >= 4100 && l.code < 4200 {
				delay = max(delay, minOverCapacityWait)
			}
		}
		attempts++
		c.states.set(StateDisconnected, l.err, max(l.code, 0))
		c.cfg.Logger.Info("realtime: connection lost", "code", l.code, "err", l.err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
		}
	}
}

// terminated returns the pusher:error that ended a connection the app
// terminated, nil for any other end.
func terminated(err error) *ServerError {
	var se *ServerError
	if errors.As(err, &se) && se.Reason == ReasonTerminated {
		return se
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// session opens one socket and serves it until it is lost.
func (c *Client) session() lost {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	token, err := c.tokenForConnect(ctx)
	if err != nil {
		return lost{code: -1, err: err}
	}
	url, err := c.cfg.socketURL(token)
	if err != nil {
		return lost{code: -1, err: err}
	}
	dctx, dcancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	sock, err := c.cfg.Dialer(dctx, url, c.cfg.Header)
	dcancel()
	if err != nil {
		return lost{code: -1, err: fmt.Errorf("realtime: %w", err)}
	}
	// The reader has its own context so that Close can send a close frame
	// before the read is cut short.
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	frames := make(chan frame)
	readErr := make(chan error, 1)
	c.wg.Add(1) // the session's goroutine is alive, so the count is above 0
	go func() {
		defer c.wg.Done()
		c.read(rctx, sock, frames, readErr)
	}()

	var (
		l         *link
		lastError *ServerError // the pusher:error that may precede a close
		idle      = c.cfg.Heartbeat
		pinging   bool
		timer     = time.NewTimer(c.cfg.ConnectTimeout)
	)
	defer timer.Stop()
	end := func(res lost) lost {
		c.detach(l)
		cancel()
		_ = sock.Close(0, "")
		res.connected = l != nil
		return res
	}
	for {
		select {
		case <-ctx.Done():
			c.detach(l)
			_ = sock.Close(normalClosure, "client closed")
			return lost{code: -1, connected: l != nil}
		case err := <-readErr:
			code := sock.CloseCode(err)
			// The pusher:error before the close says why; a termination
			// does so even when the close frame was lost.
			if lastError != nil && (lastError.Code == code || lastError.Reason == ReasonTerminated) {
				err = lastError
			}
			return end(lost{code: code, err: err})
		case <-timer.C:
			switch {
			case l == nil:
				return end(lost{code: -1, err: errConnectTimeout})
			case pinging:
				return end(lost{code: -1, err: errHeartbeatTimeout})
			}
			pinging = true
			timer.Reset(c.cfg.PongTimeout)
			if err := c.send(l, evPing, "", struct{}{}); err != nil {
				return end(lost{code: -1, err: err})
			}
		case f := <-frames:
			pinging = false
			switch f.Event {
			case evConnectionEstablished:
				var d struct {
					SocketID        string `json:"socket_id"`
					ActivityTimeout int    `json:"activity_timeout"`
				}
				if err := f.decodeData(&d); err != nil || d.SocketID == "" {
					return end(lost{code: -1, err: fmt.Errorf("realtime: bad handshake: %v", err)})
				}
				if d.ActivityTimeout > 0 {
					idle = min(idle, time.Duration(d.ActivityTimeout)*time.Second)
				}
				l = &link{sock: sock, ctx: ctx, socketID: d.SocketID, routes: map[string]*route{}}
				c.attach(l)
			case evPing:
				if l != nil {
					_ = c.send(l, evPong, "", struct{}{})
				}
			case evPong:
			case evError:
				var d struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Reason  string `json:"reason"`
				}
				_ = f.decodeData(&d)
				lastError = &ServerError{Code: d.Code, Message: d.Message, Reason: d.Reason}
				c.cfg.Logger.Warn("realtime: server error", "code", d.Code, "message", d.Message)
				c.onServerError(lastError)
			default:
				if l != nil {
					c.dispatch(l, f)
				}
			}
			if l != nil {
				timer.Reset(idle)
			}
		}
	}
}

// read feeds the session with the socket's frames until it fails.
func (c *Client) read(ctx context.Context, sock Socket, frames chan<- frame, readErr chan<- error) {
	for {
		b, err := sock.Read(ctx)
		if err != nil {
			readErr <- err
			return
		}
		f, err := decodeFrame(b)
		if err != nil {
			c.cfg.Logger.Warn("realtime: dropped a frame", "err", err)
			continue
		}
		select {
		case frames <- f:
		case <-ctx.Done():
			return
		}
	}
}

// attach makes l the client's connection and restores what lives above
// it: subscriptions (resumed), the signed-in user, the outbox. The user
// channel is subscribed again once the sign-in is (onSignedIn).
func (c *Client) attach(l *link) {
	c.mu.Lock()
	c.link = l
	close(c.linkWait)
	for _, s := range c.subs {
		if !s.userChannel {
			c.queueLocked(s.name, newOp(l, s))
		}
	}
	u := c.user
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	c.states.set(StateConnected, nil, 0)
	if u != nil && u.wanted() {
		c.goOwned(func() {
			if err := c.signinOn(l, u); err != nil {
				c.cfg.Logger.Warn("realtime: sign in again failed", "err", err)
			}
		})
	}
}

// detach forgets l (when it is the current link): subscriptions wait for
// their resume, unacked publishes go again on the next connection.
func (c *Client) detach(l *link) {
	if l == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link != l {
		return
	}
	c.link = nil
	c.linkWait = make(chan struct{})
	now := time.Now()
	for _, s := range c.subs {
		s.suspend(now)
	}
	c.out.unsend()
}

// onServerError passes a non-fatal error to whoever waits for an answer
// it may be (a sign-in).
func (c *Client) onServerError(e *ServerError) {
	c.mu.Lock()
	u := c.user
	c.mu.Unlock()
	if u != nil && e.Code == codeUnauthorized {
		u.refused(e)
	}
}

// dispatch routes a frame that is not the connection's own business.
func (c *Client) dispatch(l *link, f frame) {
	switch f.Event {
	case evAck:
		var d struct {
			ID     string `json:"id"`
			Serial uint64 `json:"serial"`
		}
		if f.decodeData(&d) == nil {
			c.settlePublish(d.ID, pubResult{serial: d.Serial})
		}
		return
	case evNack:
		var d struct {
			ID      string `json:"id"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if f.decodeData(&d) == nil {
			c.nackPublish(&NackError{ID: d.ID, Code: d.Code, Message: d.Message})
		}
		return
	case evSigninSuccess:
		c.onSignedIn(l, f)
		return
	case evTokenExpiring:
		c.goOwned(func() { c.refreshToken(l) })
		return
	case evTokenRefreshed:
		return
	}
	if f.Channel == "" {
		return
	}
	s := c.target(l, f)
	if s == nil {
		return
	}
	if err := s.handle(f); err != nil {
		c.drop(s, err)
		return
	}
	if f.Event == evSubscriptionSucceeded {
		c.goOwned(c.flushOutbox)
	}
}
