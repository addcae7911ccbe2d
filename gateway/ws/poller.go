package ws

import (
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults of PollerConfig.
const (
	// DefaultReadBufferSize is the size of each worker's read buffer.
	DefaultReadBufferSize = 32 << 10
	// DefaultWriteTimeout bounds each Conn.Write and Conn.WriteBuffers.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultControlWriteTimeout bounds writing a pong or a close frame.
	DefaultControlWriteTimeout = time.Second
	// DefaultFrameReadTimeout is how long a frame, or a fragmented
	// message, that started arriving may take to complete.
	DefaultFrameReadTimeout = 10 * time.Second
	// DefaultCloseLinger is how long a closed connection keeps reading
	// and discarding after its close frame (see PollerConfig.CloseLinger).
	DefaultCloseLinger = 2 * time.Second
	// DefaultMaxLingering bounds the connections lingering at once.
	DefaultMaxLingering = 16 << 10
)

// PollerConfig configures a Poller. Zero fields take the documented
// defaults.
type PollerConfig struct {
	// Workers is the number of goroutines that read connections and call
	// handlers (on the portable transport, where each connection has its
	// own, the number of connections shutdown closes at once). Zero means
	// 2 × GOMAXPROCS.
	Workers int
	// MaxMessageSize is the largest message accepted from a client; a
	// larger one closes the connection with CloseMessageTooBig. Zero means
	// DefaultMaxMessageSize.
	MaxMessageSize int
	// ReadBufferSize is the size of each worker's read buffer (shared by
	// all the connections the worker serves; on the portable transport,
	// each connection's). Zero means DefaultReadBufferSize.
	ReadBufferSize int
	// WriteTimeout bounds each Conn.Write and Conn.WriteBuffers call, and
	// writing the close frame after Conn.InterruptWrite. A write may get
	// as little as nine tenths of it: the deadline of an earlier write is
	// reused while that much is left. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// ControlWriteTimeout bounds writing a pong or a close frame, and how
	// long Close waits for a write in progress. Zero means
	// DefaultControlWriteTimeout.
	ControlWriteTimeout time.Duration
	// FrameReadTimeout bounds how long a frame, or a fragmented message,
	// may take to arrive once its first byte did: a client that has not
	// completed it by then is closed with ClosePolicyViolation (a client
	// trickling a frame would otherwise hold its buffer indefinitely).
	// Connections between frames have no deadline. Zero means
	// DefaultFrameReadTimeout; negative disables it.
	FrameReadTimeout time.Duration
	// CloseLinger is how long a connection keeps being read, its input
	// discarded, after the server sent its close frame and shut down its
	// side of the socket, before the socket is closed. Closing a socket
	// with unread input makes the kernel send a reset, which can destroy
	// the close frame before the client reads it; lingering lets frames
	// the client sent before it saw the close frame arrive harmlessly.
	// The linger ends early when the client closes its side. Zero means
	// DefaultCloseLinger; negative closes at once.
	CloseLinger time.Duration
	// MaxLingering bounds how many connections linger at once; past it a
	// connection is closed at once. Zero means DefaultMaxLingering.
	MaxLingering int
	// Logger receives the poller's errors and, at debug level, why
	// connections failed. Nil discards.
	Logger *slog.Logger
}

// Handler receives a connection's messages and its end. A connection's
// handler is never called concurrently with itself for that connection.
type Handler interface {
	// OnMessage is called on a poller worker (on the portable transport,
	// the connection's reader goroutine) with each complete message.
	// op is OpText: binary messages are refused with
	// CloseUnsupportedData, and control frames are handled by the poller.
	// payload is valid only during the call. OnMessage must not block: a
	// slow handler holds up other connections. Hand writes to another
	// goroutine.
	OnMessage(c *Conn, op Opcode, payload []byte)
	// OnClose is called exactly once, when the connection ends, on a
	// worker or in the goroutine that called Conn.Close (see Close). err
	// says why: a *CloseError when the client sent a close frame, a
	// *ProtocolError when it broke the protocol, ErrClosed after
	// Conn.Close, ErrPollerClosed when the poller shut down, io.EOF when
	// the client hung up, or a read error.
	OnClose(c *Conn, err error)
}

// Stats are a Poller's counters, for metrics.
type Stats struct {
	// Open is the number of connections added and not yet closed.
	Open int64
	// Added is the number of connections ever added.
	Added uint64
	// ProtocolErrors is the number of connections closed because the
	// client broke the protocol or a limit.
	ProtocolErrors uint64
	// FrameTimeouts is the number of connections closed because a frame
	// did not complete within FrameReadTimeout.
	FrameTimeouts uint64
	// Lingering is the number of closed connections whose socket is
	// still open, lingering (see PollerConfig.CloseLinger).
	Lingering int64
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg PollerConfig) withDefaults() PollerConfig {
	cfg.Workers = defaults.Positive(cfg.Workers, 2*runtime.GOMAXPROCS(0))
	cfg.MaxMessageSize = defaults.Positive(cfg.MaxMessageSize, DefaultMaxMessageSize)
	cfg.ReadBufferSize = defaults.Positive(cfg.ReadBufferSize, DefaultReadBufferSize)
	cfg.WriteTimeout = defaults.Positive(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.ControlWriteTimeout = defaults.Positive(cfg.ControlWriteTimeout, DefaultControlWriteTimeout)
	if cfg.FrameReadTimeout == 0 {
		cfg.FrameReadTimeout = DefaultFrameReadTimeout
	}
	if cfg.CloseLinger == 0 {
		cfg.CloseLinger = DefaultCloseLinger
	}
	cfg.MaxLingering = defaults.Positive(cfg.MaxLingering, DefaultMaxLingering)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// closeConns closes what is left at shutdown: lingering sockets at once,
// since nothing serves them any more, and open connections with a close
// frame, as many at a time as there are workers, since each close may
// wait for a slow client.
func (p *Poller) closeConns(conns []*Conn) {
	conns = slices.DeleteFunc(conns, func(c *Conn) bool {
		if c.state.CompareAndSwap(stLinger, stClosed) {
			c.closeSocket()
			return true
		}
		return false
	})
	queue := make(chan *Conn)
	var wg sync.WaitGroup
	for range min(p.cfg.Workers, len(conns)) {
		wg.Go(func() {
			for c := range queue {
				_ = c.closeWith(CloseGoingAway, "server shutting down", ErrPollerClosed)
			}
		})
	}
	for _, c := range conns {
		queue <- c
	}
	close(queue)
	wg.Wait()
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	return Stats{
		Open: p.open.Load(), Added: p.added.Load(), ProtocolErrors: p.protocolErrors.Load(),
		FrameTimeouts: p.frameTimeouts.Load(), Lingering: p.lingeringNow(),
	}
}

// Add hands an upgraded connection (from Upgrade) to the poller, with the
// bytes already read from it (Upgrade's second result). From then on the
// poller owns nc: use the returned Conn to write and close. h's methods may
// be called before Add returns. If Add fails, nc is closed and h is never
// called. Connections are only read while Run is running.
func (p *Poller) Add(nc net.Conn, h Handler, initial []byte) (*Conn, error) {
	return p.AddLimited(nc, h, initial, p.cfg.MaxMessageSize)
}

// AddLimited is Add with a message size limit of this connection's own,
// in place of PollerConfig.MaxMessageSize (maxMessageSize <= 0 keeps it),
// in force from the first byte read. Conn.SetMaxMessageSize changes it
// later.
func (p *Poller) AddLimited(nc net.Conn, h Handler, initial []byte, maxMessageSize int) (*Conn, error) {
	maxMessageSize = defaults.Positive(maxMessageSize, p.cfg.MaxMessageSize)
	c, err := p.add(nc, h, initial, maxMessageSize)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// closeLocked marks the poller closed, for shutdown and Close: Add fails
// from then on, and connections that end no longer linger, since nothing
// will serve them. The caller holds mu.
func (p *Poller) closeLocked() {
	p.closed = true
	p.stopping.Store(true)
}

// startRunning marks the poller running, for Run; it reports false if Run
// was called before or Close was.
func (p *Poller) startRunning() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.running {
		return false
	}
	p.running = true
	return true
}
