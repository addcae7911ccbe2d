package gateway

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/ws"
)

// conn is one client connection. Its read side runs on the poller's
// workers (one message at a time); deliveries arrive concurrently from the
// fan-out and only touch the send queue. It is kept small: an idle
// connection must cost well under 8 KiB.
type conn struct {
	gw *Gateway
	// wsc is set once the poller took the connection; a worker may call
	// OnMessage before the handshake goroutine stored it, so both do.
	wsc      atomic.Pointer[ws.Conn]
	socketID string
	appID    string
	key      string

	// lastActive is the Unix nanosecond time of the last frame read;
	// pingSent is when the server's unanswered ping went out (0: none).
	lastActive atomic.Int64
	pingSent   atomic.Int64

	// mu guards everything below.
	mu   sync.Mutex
	subs map[string]*subscription
	user *signedInUser
	// closed is set once the connection ended (OnClose); closing once a
	// close was requested: nothing more is queued after it.
	closed      bool
	closing     bool
	closeCode   uint16
	closeReason string
	// Send queue: frames are shared, read-only slices (one fan-out encodes
	// a frame once for every subscriber). queued counts their bytes.
	queue   net.Buffers
	queued  int
	writing bool
	// Client-event rate limiting: a token bucket refilled at the app's
	// client_event_rate per second, holding at most that many tokens.
	tokens     float64
	tokensAtNs int64
}

// subscription is one channel a connection joined.
type subscription struct {
	ch       channels.Channel
	presence bool
	userID   string
}

// signedInUser is the user a connection signed in as (pusher:signin).
type signedInUser struct {
	id        string
	watchlist []string
}

// setWS records the connection's WebSocket.
func (c *conn) setWS(w *ws.Conn) { c.wsc.CompareAndSwap(nil, w) }

// sock returns the WebSocket; set before any frame is queued.
func (c *conn) sock() *ws.Conn { return c.wsc.Load() }

// app returns the connection's current app config, nil once the app is
// gone.
func (c *conn) app() *channels.AppConfig {
	a, _ := c.gw.cfg.Apps.App(c.appID)
	return a
}

// enqueue queues a frame for the client. It never blocks: a client whose
// queue is over the limit is closed with 4100 in the background, so one
// slow client never delays a fan-out. It reports whether the frame was
// queued.
func (c *conn) enqueue(frame []byte) bool {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return false
	}
	if c.queued+len(frame) > c.gw.cfg.SendQueueBytes {
		c.closing = true
		c.queue, c.queued = nil, 0
		c.closeCode, c.closeReason = CloseSlowConsumer, "slow consumer"
		start := c.startWriterLocked()
		c.mu.Unlock()
		c.gw.metrics.slowConsumers.Inc()
		if start {
			go c.writeLoop()
		}
		return false
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// startWriterLocked reports whether the caller must start the writer
// goroutine (none is running). c.mu must be held.
func (c *conn) startWriterLocked() bool {
	if c.writing {
		return false
	}
	c.writing = true
	return true
}

// writeLoop drains the send queue and exits when it is empty, so that an
// idle connection holds no writer goroutine. Several queued frames go out
// in one writev. A close requested with closeAfter is sent once what was
// queued before it is written.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			closing := c.closing && !c.closed
			code, reason := c.closeCode, c.closeReason
			c.queue, c.queued = nil, 0
			c.mu.Unlock()
			if closing {
				// Never while holding c.mu: Close may run OnClose here.
				c.sock().Close(code, reason)
			}
			return
		}
		batch, n := c.queue, c.queued
		c.queue, c.queued = nil, 0
		c.mu.Unlock()

		frames := len(batch)
		if _, err := c.sock().WriteBuffers(batch); err != nil {
			c.mu.Lock()
			c.writing = false
			c.closed = true
			c.queue, c.queued = nil, 0
			c.mu.Unlock()
			c.sock().Close(ws.CloseInternalError, "write failed")
			return
		}
		c.gw.metrics.bytesOut.Add(float64(n))
		c.gw.metrics.messagesOut.Add(float64(frames))
	}
}

// send frames a JSON event payload and queues it.
func (c *conn) send(payload []byte) bool {
	return c.enqueue(ws.AppendFrame(make([]byte, 0, ws.FrameSize(len(payload))), ws.OpText, true, payload))
}

// closeAfter queues payload (a pusher:error, or nil), then a close frame
// with code once everything queued before has been written: Pusher sends
// the error event, then closes with the same code.
func (c *conn) closeAfter(payload []byte, code uint16, reason string) {
	if payload != nil {
		c.send(payload)
	}
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// fail sends pusher:error with a fatal Pusher code and closes with it.
func (c *conn) fail(code int, message string) {
	c.closeAfter(errorFrame(code, message), uint16(code), message)
}
