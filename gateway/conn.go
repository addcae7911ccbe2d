package gateway

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/authguard"
)

// conn is one client connection. Its read side runs on the poller's
// workers (one message at a time); deliveries arrive concurrently from the
// fan-out and only touch the send queue. It is kept small: an idle
// connection must cost well under 8 KiB.
type conn struct {
	gw *Gateway
	// sink is the connection's transport (sink.go): wsSink, or an SSE
	// stream's.
	sink sink
	// wsc is set once the poller took the connection; a worker may call
	// OnMessage before the handshake goroutine stored it, so both do.
	wsc      atomic.Pointer[ws.Conn]
	socketID string
	appID    string
	key      string
	// client is the address its refused credentials count against
	// (authfail.go).
	client authguard.Client
	// series are the metrics its app counts in, set when the connection
	// is made (before the poller may close it); nil (tests) means the
	// global ones.
	series *appSeries
	// meter is the connection's shard of its app's meter: it counts what
	// the connection is sent (docs/billing.md); nil when metering is off.
	// Set before the connection can receive.
	meter *billing.MeterShard
	// token is set on connections opened with a token: its capabilities
	// replace per-channel signatures. herald:refresh swaps it while the
	// keepalive scanner, app changes and subscribes read it.
	token atomic.Pointer[connToken]

	// lastActive is the Unix nanosecond time of the last frame read;
	// pingSent is when the server's unanswered ping went out (0: none).
	lastActive atomic.Int64
	pingSent   atomic.Int64

	// mu guards everything below.
	mu   sync.Mutex
	subs subSet
	user *signedInUser
	// closed is set once the connection ended (OnClose); closing once a
	// close was requested: nothing more is queued after it.
	closed  bool
	closing bool
	writing bool
	// flush asks the writer for one Write even with nothing queued: the
	// socket holds the rest of a frame written directly (writeDirect), or
	// a pong is waiting, or the direct write failed and the writer's
	// error path must close the connection.
	flush bool
	// queued counts the bytes in queue (bounded by SendQueueBytes, an
	// int32 so that it packs with the flags above).
	queued int32
	// closeFrame is the close frame closing asked for.
	closeFrame *closeFrame
	// Send queue: frames are shared, read-only slices (one fan-out encodes
	// a frame once for every subscriber).
	queue net.Buffers
	// metered counts the channel events and presence events in queue, for
	// the meter once the writer wrote them.
	metered meterCounts
	// writer is c.writeLoop, made once: a go statement on a method value
	// allocates a closure each time, which would be once per message per
	// idle subscriber.
	writer func()
	// events limits the client events the connection may send (nil until
	// its first: most connections send none, and every connection would
	// pay for the bucket).
	events *tokenBucket
}

// closeFrame is the close code and reason a connection ends with.
type closeFrame struct {
	code   uint16
	reason string
}

// slowConsumerClose ends a connection whose send queue overflowed.
var slowConsumerClose = &closeFrame{code: uint16(channels.PusherOverCapacity), reason: "slow consumer"}

// closeWithLocked returns the close code and reason closing asked for;
// c.mu is held.
func (c *conn) closeWithLocked() (uint16, string) {
	if c.closeFrame == nil {
		return 0, ""
	}
	return c.closeFrame.code, c.closeFrame.reason
}

// subscription is one channel a connection joined. Its flags come last,
// together: spread between the other fields, their padding would put
// every subscription in the next allocation size class.
type subscription struct {
	ch     channels.Channel
	userID string
	// While replaying is set (resume or rewind in progress), live frames
	// wait in held instead of the send queue; both are guarded by the
	// connection's mu.
	held []heldFrame
	// floor is the highest serial a replay sent: live copies at or below
	// it (a republish can lag its publish past the replay) are dropped.
	floor     uint64
	presence  bool
	replaying bool
	// verify is set after a replay until a live frame shows the replay
	// and the live stream meet with nothing between (continuity.go).
	verify bool
}

// heldFrame is one message or event on its way to a connection's sink,
// as a fan-out or a replay encoded it once: a live frame waits in it
// while a replay runs.
type heldFrame struct {
	serial uint64
	// prev is the serial of the channel's previous message (0: unknown).
	prev uint64
	// frame is the WebSocket frame holding the event's Pusher JSON,
	// shared by every subscriber: read-only.
	frame []byte
	// event is the event's name, for transports that send it apart
	// (SSE's event: field).
	event string
	// atMs is when the message was published, for SSE cursors (0: now).
	atMs int64
	// queueOnly asks for the frame to be queued for the connection's
	// writer even when it could be written at once: the fan-out is
	// behind, and queued frames go out several per writev.
	queueOnly bool
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
// queue is over the limit is closed with 4100 in the background (its
// backlog dropped, the close frame sent first), so one slow client never
// delays a fan-out. It reports whether the frame was queued.
func (c *conn) enqueue(frame []byte) bool {
	return c.enqueueHeld(heldFrame{frame: frame})
}

// enqueueHeld is enqueue for a frame that may be a channel event (a
// replayed message): the meter counts it once written.
func (c *conn) enqueueHeld(h heldFrame) bool {
	c.mu.Lock()
	ok, start, slow := c.sink.queueLocked(c, h)
	c.mu.Unlock()
	c.afterQueue(start, slow)
	return ok
}

// afterQueue does what queueLocked asked for once c.mu is released.
func (c *conn) afterQueue(start, slow bool) {
	if slow {
		c.appSeries().slowConsumers.Inc()
		c.sink.cutShort(c)
	}
	if start {
		// c.writer, not c.writeLoop: a go statement on a method value
		// allocates, once per message per idle subscriber.
		go c.writer()
	}
}

// enqueueLocked appends a frame to the send queue; c.mu must be held. It
// reports whether the frame was queued, whether the caller must start
// the writer goroutine (after unlocking), and whether the client was just
// found to be a slow consumer (then a close with 4100 is queued instead).
func (c *conn) enqueueLocked(h heldFrame) (ok, start, slow bool) {
	if c.closed || c.closing {
		return false, false, false
	}
	if !c.writing && len(c.queue) == 0 && !h.queueOnly {
		// Nothing waits and no writer runs: try the socket itself.
		if written, start := c.writeDirectLocked(&h); written || start {
			return written, start, false
		}
	}
	if int(c.queued)+len(h.frame) > c.gw.cfg.SendQueueBytes {
		// The backlog is dropped, never written: the meter counts none of it.
		c.closing = true
		c.queue, c.queued, c.metered = nil, 0, meterCounts{}
		c.closeFrame = slowConsumerClose
		return false, c.startWriterLocked(), true
	}
	c.queue = append(c.queue, h.frame)
	c.queued += int32(len(h.frame))
	c.metered.add(&h)
	return true, c.startWriterLocked(), false
}

// enqueueFor queues a live frame for one subscription, holding it back
// while that subscription replays history.
func (c *conn) enqueueFor(sub *subscription, h heldFrame) bool {
	c.mu.Lock()
	if sub != nil && h.serial != 0 {
		if h.serial <= sub.floor {
			c.mu.Unlock()
			return true // the replay already sent it
		}
		if sub.verify && !sub.replaying {
			c.verifyLocked(sub, h.prev)
		}
	}
	if sub != nil && sub.replaying && !c.closed && !c.closing {
		if len(sub.held) >= maxHeldFrames {
			// The replay is too slow for the channel's rate: the client is
			// as good as a slow consumer.
			c.mu.Unlock()
			c.closeAfter(nil, uint16(channels.PusherOverCapacity), "slow consumer")
			return false
		}
		sub.held = append(sub.held, h)
		c.mu.Unlock()
		return true
	}
	ok, start, slow := c.sink.queueLocked(c, h)
	c.mu.Unlock()
	c.afterQueue(start, slow)
	return ok
}

// writeDirectLocked writes h to the socket from the caller's goroutine
// (a fan-out, or a worker answering), if the socket takes it without
// waiting. Starting a writer goroutine and setting a write deadline for
// every delivery cost about a fifth of a delivery's CPU, and a fan-out
// left thousands of runnable writers queued in front of the goroutines
// accepting and storing the next publish (docs/performance.md). A full
// socket, or one left with part of a frame, falls back to the writer,
// which waits with a deadline as before. written reports that h is on
// the wire (counted as sent); start that the caller must start the
// writer. c.mu is held; nothing here blocks.
func (c *conn) writeDirectLocked(h *heldFrame) (written, start bool) {
	written, flush, err := c.sock().WriteNow(h.frame)
	if err != nil {
		// Broken or closing: the writer's error path closes it as a
		// failed write does.
		c.flush = true
		return false, c.startWriterLocked()
	}
	if !written {
		return false, false
	}
	c.gw.metrics.bytesOut.Add(float64(len(h.frame)))
	c.gw.metrics.messagesOut.Inc()
	var m meterCounts
	m.add(h)
	m.count(c.meter)
	if flush {
		c.flush = true
		return true, c.startWriterLocked()
	}
	return true, false
}

// startWriterLocked reports whether the caller must start the writer
// goroutine (none is running). c.mu must be held.
func (c *conn) startWriterLocked() bool {
	if c.writing {
		return false
	}
	c.writing = true
	if c.writer == nil {
		c.writer = c.writeLoop
	}
	return true
}

// maxKeptQueue is the largest queue array (in frames) a connection keeps
// for reuse once its writer goes idle; larger ones, left by a burst, are
// released.
const maxKeptQueue = 8

// writeLoop drains the send queue and exits when it is empty, so that an
// idle connection holds no writer goroutine. Several queued frames go out
// in one writev. A close requested with closeAfter is sent once what was
// queued before it is written.
//
// A fan-out must not allocate per subscriber: the loop swaps two arrays
// between the queue and the batch being written instead of leaving an
// empty queue to be allocated again, and keeps a small one when it exits.
func (c *conn) writeLoop() {
	// spare is the array of the last batch written, emptied.
	var spare net.Buffers
	for {
		c.mu.Lock()
		if len(c.queue) == 0 && !c.flush || c.closed {
			c.writing = false
			closing := c.closing && !c.closed
			code, reason := c.closeWithLocked()
			if c.queue == nil {
				c.queue = spare
			}
			if c.closed || cap(c.queue) > maxKeptQueue {
				c.queue = nil
			}
			c.queued, c.metered, c.flush = 0, meterCounts{}, false
			c.mu.Unlock()
			if closing {
				// Never while holding c.mu: Close may run OnClose here.
				c.sock().Close(code, reason)
			}
			return
		}
		batch, n, metered := c.queue, c.queued, c.metered
		c.queue, c.queued, c.metered, c.flush = spare, 0, meterCounts{}, false
		c.mu.Unlock()

		frames := len(batch)
		var err error
		switch frames {
		case 0:
			// What a direct write left: a frame's rest, or a pong.
			_, err = c.sock().Write(nil)
		case 1:
			// One frame: a plain write(2), no iovec array to fill.
			_, err = c.sock().Write(batch[0])
		default:
			_, err = c.sock().WriteBuffers(batch)
		}
		if err != nil {
			c.mu.Lock()
			c.writing = false
			c.closed = true
			c.queue, c.queued, c.metered, c.flush = nil, 0, meterCounts{}, false
			// A close cut the write short on purpose (a slow consumer):
			// the socket sends the rest of the frame, then the close.
			code, reason := ws.CloseInternalError, "write failed"
			if c.closing {
				code, reason = c.closeWithLocked()
			}
			c.mu.Unlock()
			c.sock().Close(code, reason)
			return
		}
		// Drop the frames (WriteBuffers has cleared only those it wrote
		// whole), keep the array.
		clear(batch)
		spare = batch[:0]
		if frames > 0 {
			c.gw.metrics.bytesOut.Add(float64(n))
			c.gw.metrics.messagesOut.Add(float64(frames))
			metered.count(c.meter)
		}
	}
}

// send frames a JSON event payload and queues it.
func (c *conn) send(payload []byte) bool {
	return c.enqueue(ws.AppendFrame(make([]byte, 0, ws.FrameSize(len(payload))), ws.OpText, true, payload))
}

// closeAfter ends the connection after payload (a pusher:error, or nil):
// the transport sends the error, then closes with code.
func (c *conn) closeAfter(payload []byte, code uint16, reason string) {
	c.sink.closeAfter(c, payload, code, reason)
}

// closeAfterWS queues payload, then a close frame with code once
// everything queued before has been written: Pusher sends the error
// event, then closes with the same code.
func (c *conn) closeAfterWS(payload []byte, code uint16, reason string) {
	if payload != nil {
		c.send(payload)
	}
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.closeFrame = &closeFrame{code: code, reason: reason}
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writer()
	}
}

// claims returns the connection's current token claims, nil on a
// connection opened without a token.
func (c *conn) claims() *channels.TokenClaims {
	if t := c.token.Load(); t != nil {
		return t.claims
	}
	return nil
}

// fail sends pusher:error with a fatal Pusher code and closes with it.
func (c *conn) fail(code channels.WireCode, message string) {
	c.debugClientError(code, message)
	c.closeAfter(protocol.Error(code, message), uint16(code), message)
}

// appSeries returns the series c counts in.
func (c *conn) appSeries() *appSeries {
	if c.series != nil {
		return c.series
	}
	return &c.gw.metrics.global
}
