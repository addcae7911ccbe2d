package realtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Client is one logical connection to Herald over successive WebSockets:
// it reconnects, resumes its subscriptions and resends its outbox. Its
// methods are safe for concurrent use.
type Client struct {
	cfg    Config
	bo     backoff
	ctx    context.Context // the client's life; canceled by Close or a fatal close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	states *stateFeed
	ready  chan struct{} // closed at the first connection
	done   chan struct{} // closed when the run loop has ended

	flushMu sync.Mutex // one outbox flush at a time, so publishes keep their order

	mu        sync.Mutex
	link      *link // the open connection, nil while disconnected
	linkWait  chan struct{}
	subs      map[string]*Subscription
	ops       map[string][]*chanOp // each busy channel's frames to send, in order (order.go)
	out       outbox
	token     string
	user      *userSession
	retry     *time.Timer // a flush after a retriable nack
	err       error       // why the client closed
	lastErr   error       // why the latest connection or attempt ended
	closed    bool
	running   bool
	readyOnce sync.Once
}

// link is one established WebSocket.
type link struct {
	sock     Socket
	ctx      context.Context // canceled when the socket is lost
	socketID string
	routes   map[string]*route // by channel; the Client's mu guards it
}

// Dial connects and returns once the server has accepted the connection,
// or with the error that ended the attempts (a *CloseError), or ctx's
// wrapped with the last attempt's failure (connection refused, an HTTP
// status, the TokenProvider's error): errors.Is finds both. ctx bounds
// only the dial: the client lives until Close.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c.Connect()
	select {
	case <-c.ready:
		return c, nil
	case <-c.done:
		err := c.Err()
		_ = c.Close(ctx)
		return nil, err
	case <-ctx.Done():
		_ = c.Close(context.Background())
		c.mu.Lock()
		last := c.lastErr
		c.mu.Unlock()
		if last != nil {
			return nil, fmt.Errorf("realtime: dial: %w (last attempt: %w)", ctx.Err(), last)
		}
		return nil, fmt.Errorf("realtime: dial: %w", ctx.Err())
	}
}

// New makes a client without connecting: subscribe and publish calls made
// before Connect wait for the connection.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := cfg.socketURL(""); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		cfg:      cfg,
		bo:       backoff{min: cfg.BackoffMin, max: cfg.BackoffMax},
		ctx:      ctx,
		cancel:   cancel,
		states:   newStateFeed(cfg.StateBuffer),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		linkWait: make(chan struct{}),
		subs:     make(map[string]*Subscription),
		ops:      make(map[string][]*chanOp),
		out:      outbox{max: cfg.OutboxSize},
	}, nil
}

// Connect starts the connection loop; calling it again does nothing.
func (c *Client) Connect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.running {
		return
	}
	c.running = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(c.done)
		c.run()
	}()
}

// States delivers every state change. It is buffered (Config.StateBuffer)
// and never blocks the client: when full, the oldest change is dropped.
// It is closed after StateClosed.
func (c *Client) States() <-chan StateChange { return c.states.ch }

// State is the current state.
func (c *Client) State() State { return c.states.current() }

// Err is why the client closed: nil after Close, a *CloseError when the
// server refused it for good.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// SocketID is the server's id of the current connection, "" while
// disconnected.
func (c *Client) SocketID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link == nil {
		return ""
	}
	return c.link.socketID
}

// Close ends the connection, every subscription (their channels are
// closed) and every waiting publish (ErrClosed), and waits until every
// goroutine the client started has returned, or ctx is done.
func (c *Client) Close(ctx context.Context) error {
	c.cancel()
	c.mu.Lock()
	started := c.runStarted()
	c.mu.Unlock()
	if !started {
		c.finish(nil)
	}
	waited := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("realtime: close: %w", ctx.Err())
	}
}

// runStarted reports whether Connect ran; c.mu held.
func (c *Client) runStarted() bool { return c.running }

// finish ends the client: everything waiting fails with err (ErrClosed
// when nil), every subscription is closed and the state is StateClosed.
func (c *Client) finish(err error) {
	c.cancel()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.err = err
	if c.retry != nil {
		c.retry.Stop()
	}
	failWith := err
	if failWith == nil {
		failWith = ErrClosed
	}
	c.out.failAll(failWith)
	c.failOpsLocked(failWith)
	subs := c.subs
	c.subs = map[string]*Subscription{}
	if c.user != nil {
		c.user.fail(failWith)
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.close(failWith)
	}
	code := 0
	var ce *CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	c.states.set(StateClosed, err, code)
}

// current returns the open link, or waits for one.
func (c *Client) current(ctx context.Context) (*link, error) {
	for {
		c.mu.Lock()
		l, wait, closed := c.link, c.linkWait, c.closed
		c.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if l != nil {
			return l, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// send writes one frame on l, bounded by the write timeout.
func (c *Client) send(l *link, event, channel string, data any) error {
	b, err := encodeFrame(event, channel, data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(l.ctx, c.cfg.WriteTimeout)
	defer cancel()
	if err := l.sock.Write(ctx, b); err != nil {
		return fmt.Errorf("realtime: send %s: %w", event, err)
	}
	return nil
}

// goOwned runs fn on a goroutine the client waits for in Close; nothing
// starts once the client is closed. c.mu must not be held.
func (c *Client) goOwned(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}
