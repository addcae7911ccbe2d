//go:build !linux || herald_portable_ws

package ws

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Poller serves WebSocket connections with a reader goroutine each, which
// blocks in Read, parses what arrives and calls the connection's Handler.
// It is the transport of systems without epoll, and of Linux builds with
// the herald_portable_ws tag (so that the tests exercise it); it has the
// same API and behaviour as the epoll Poller, at the cost of a goroutine
// and a read buffer per connection.
type Poller struct {
	cfg    PollerConfig
	log    *slog.Logger
	nextID atomic.Uint64

	open           atomic.Int64
	added          atomic.Uint64
	protocolErrors atomic.Uint64
	frameTimeouts  atomic.Uint64
	lingering      atomic.Int64

	// mu guards conns and orders Add against shutdown: no reader starts
	// once closed is set.
	mu      sync.Mutex
	conns   map[uint64]*Conn
	closed  bool
	running bool
	// stopping is set once shutdown began: closed connections no longer
	// linger.
	stopping atomic.Bool

	started  chan struct{} // closed by Run: readers may read
	stop     chan struct{} // closed by Close
	stopOnce sync.Once
	done     chan struct{} // closed when Run returns
	// readers counts the connections' reader goroutines; shutdown waits
	// for them, so that every OnClose has returned.
	readers sync.WaitGroup
}

// NewPoller creates a Poller. Call Run to serve connections and Close to
// release it.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	cfg = cfg.withDefaults()
	return &Poller{
		cfg:     cfg,
		log:     cfg.Logger,
		conns:   make(map[uint64]*Conn),
		started: make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// lingeringNow is the number of lingering sockets, for Stats.
func (p *Poller) lingeringNow() int64 { return p.lingering.Load() }

func (p *Poller) add(nc net.Conn, h Handler, initial []byte, maxMessageSize int) (*Conn, error) {
	// A leftover read deadline would make the first read fail.
	if err := nc.SetReadDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("ws: clear read deadline: %w", err)
	}
	c := &Conn{connCore: connCore{p: p, h: h, id: p.nextID.Add(1)}, nc: nc, ended: make(chan struct{})}
	c.parser.init(ParserConfig{MaxMessageSize: maxMessageSize})
	c.maxMessage.Store(int64(maxMessageSize))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPollerClosed
	}
	p.conns[c.id] = c
	p.open.Add(1)
	p.added.Add(1)
	p.readers.Go(func() { c.read(initial) })
	return c, nil
}

// Run serves connections until ctx is done or Close is called, then closes
// every connection left with CloseGoingAway (their OnClose gets
// ErrPollerClosed) and returns nil. Run may be called once.
func (p *Poller) Run(ctx context.Context) error {
	if !p.startRunning() {
		return ErrPollerClosed
	}
	defer close(p.done)
	close(p.started)
	select {
	case <-ctx.Done():
	case <-p.stop:
	}
	p.shutdown()
	return nil
}

// Close stops Run, waits for it to return, and closes the connections
// left. It is safe to call more than once.
func (p *Poller) Close() error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.mu.Lock()
	running := p.running
	p.mu.Unlock()
	if running {
		<-p.done
	} else {
		p.shutdown()
	}
	return nil
}

// shutdown refuses new connections, closes those left and waits for their
// readers.
func (p *Poller) shutdown() {
	p.mu.Lock()
	p.closeLocked()
	conns := slices.Collect(maps.Values(p.conns))
	p.mu.Unlock()
	p.closeConns(conns)
	p.readers.Wait()
}

func (p *Poller) remove(c *Conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}
