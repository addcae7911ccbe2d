//go:build linux && !herald_portable_ws

package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	// eventBatch is how many readiness events one epoll_wait returns at
	// most; it is also the depth of the queue in front of the workers.
	eventBatch = 128
	// maxReadsPerTurn bounds the reads a worker does for one connection
	// before re-arming it, so a fast sender cannot starve the others.
	maxReadsPerTurn = 4
	// connShards is the number of locks the connection table is split
	// over.
	connShards = 64
	// wakeID is the epoll data of the eventfd that stops the dispatcher;
	// connection ids start at 1.
	wakeID = 0
	// sweepsPerTimeout is how many times per frame read timeout or close
	// linger (the shorter) the sweeper looks for connections past their
	// deadline: a deadline is enforced within a quarter of itself late.
	sweepsPerTimeout = 4
	// connEvents are the events a connection is armed for. EPOLLONESHOT
	// disarms it after one event, so only one worker ever handles a
	// connection at a time; the worker re-arms it when done. Interest is
	// level-triggered: data that arrived meanwhile is reported again.
	connEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT
)

// Poller serves WebSocket connections from an epoll instance: idle
// connections hold no goroutine. A dispatcher goroutine waits for readable
// connections and queues them to a fixed pool of workers, which read what
// is available without blocking, parse it, and call the connection's
// Handler.
type Poller struct {
	cfg    PollerConfig
	log    *slog.Logger
	epfd   int
	wakefd int
	// wepfd is the write epoll, where sockets too full to take a write
	// wait for room (socket_linux.go); wwakefd stops its dispatcher,
	// which closes wdone when it returns. It runs from NewPoller to Close,
	// so that writes at shutdown still wait for room.
	wepfd   int
	wwakefd int
	wdone   chan struct{}
	jobs    chan *Conn
	nextID  atomic.Uint64
	shards  [connShards]connShard

	open           atomic.Int64
	added          atomic.Uint64
	protocolErrors atomic.Uint64
	frameTimeouts  atomic.Uint64

	// partial holds the connections with a frame in progress, lingering
	// those whose socket lingers after close: the sweeper enforces their
	// deadlines without a timer or a goroutine per connection.
	partial   connSet
	lingering connSet

	// mu orders Add against shutdown: Add holds it shared, shutdown sets
	// closed under it exclusively, so no Add registers a connection or
	// queues a job after shutdown began.
	mu      sync.RWMutex
	closed  bool
	running bool
	// stopping is set once shutdown began: closed connections no longer
	// linger, since nothing will serve them.
	stopping atomic.Bool

	stop        chan struct{} // closed by Close
	stopOnce    sync.Once
	done        chan struct{} // closed when Run returns
	releaseOnce sync.Once
	// bridges counts the goroutines of TLS bridges (bridge_linux.go);
	// Close waits for them.
	bridges sync.WaitGroup
	// bridged holds the client addresses of bridged TLS connections (id →
	// net.Addr): the kernel knows only the bridge's socketpair.
	bridged sync.Map
}

// connShard is one lock's share of the id → connection table.
type connShard struct {
	mu sync.Mutex
	m  map[uint64]*Conn
}

// NewPoller creates a Poller. Call Run to serve connections and Close to
// release it.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	cfg = cfg.withDefaults()
	epfd, wakefd, err := newEpoll()
	if err != nil {
		return nil, err
	}
	wepfd, wwakefd, err := newEpoll()
	if err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, err
	}
	p := &Poller{
		cfg:     cfg,
		log:     cfg.Logger,
		epfd:    epfd,
		wakefd:  wakefd,
		wepfd:   wepfd,
		wwakefd: wwakefd,
		wdone:   make(chan struct{}),
		jobs:    make(chan *Conn, eventBatch),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i := range p.shards {
		p.shards[i].m = make(map[uint64]*Conn)
	}
	p.partial.init()
	p.lingering.init()
	go func() {
		defer close(p.wdone)
		if err := p.dispatchWritable(); err != nil {
			p.log.Error("websocket write poller failed", "err", err)
		}
	}()
	return p, nil
}

// newEpoll creates an epoll instance with an eventfd registered under
// wakeID, whose writing stops the instance's dispatcher.
func newEpoll() (epfd, wakefd int, err error) {
	epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, -1, fmt.Errorf("ws: epoll create: %w", err)
	}
	wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return -1, -1, fmt.Errorf("ws: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return -1, -1, fmt.Errorf("ws: register eventfd: %w", err)
	}
	return epfd, wakefd, nil
}

// wake writes an eventfd, which stays readable: its dispatcher sees it
// whenever it next waits.
func (p *Poller) wake(fd int) {
	var one = [8]byte{1}
	if _, err := unix.Write(fd, one[:]); err != nil && !errors.Is(err, unix.EAGAIN) {
		p.log.Error("websocket poller wake-up failed", "err", err)
	}
}

// lingeringNow is the number of lingering sockets, for Stats.
func (p *Poller) lingeringNow() int64 { return int64(p.lingering.len()) }

func (p *Poller) add(nc net.Conn, h Handler, initial []byte, maxMessageSize int) (*Conn, error) {
	var bridgedAddr net.Addr
	if tc, isTLS := nc.(*tls.Conn); isTLS {
		// Under mu, so that no bridge starts once Close waits for them.
		p.mu.RLock()
		closed := p.closed
		var bc net.Conn
		var err error
		if !closed {
			bc, err = p.bridge(tc)
		}
		p.mu.RUnlock()
		if closed {
			return nil, ErrPollerClosed
		}
		if err != nil {
			return nil, err
		}
		nc = bc
		bridgedAddr = tc.RemoteAddr()
	}
	fd, err := takeSocket(nc)
	if err != nil {
		return nil, err
	}
	c := &Conn{connCore: connCore{p: p, h: h, id: p.nextID.Add(1)}, fd: int32(fd)}
	c.parser.init(ParserConfig{MaxMessageSize: maxMessageSize})
	c.maxMessage.Store(int64(maxMessageSize))
	queued := len(initial) > 0
	if queued {
		// Owned as if a worker had taken it, until the queued job below
		// has parsed the initial bytes, which wait in the parser.
		c.parser.Feed(initial)
		c.state.Store(stBusy)
	}

	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		unix.Close(fd)
		return nil, ErrPollerClosed
	}
	if bridgedAddr != nil {
		p.bridged.Store(c.id, bridgedAddr)
	}
	p.insert(c)
	ev := c.event()
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.remove(c)
		unix.Close(fd)
		return nil, fmt.Errorf("ws: register connection: %w", err)
	}
	p.open.Add(1)
	p.added.Add(1)
	// c may be served (and the initial bytes parsed) as soon as it is armed.
	if queued {
		select {
		case p.jobs <- c:
		case <-p.stop:
			// Closing and Run is not draining the queue: give up.
			p.remove(c)
			p.open.Add(-1)
			unix.Close(fd)
			return nil, ErrPollerClosed
		}
	}
	return c, nil
}

// Run serves connections until ctx is done or Close is called, then closes
// every connection left with CloseGoingAway (their OnClose gets
// ErrPollerClosed) and returns. It returns nil after a requested stop, and
// an error if epoll fails. Run may be called once.
func (p *Poller) Run(ctx context.Context) error {
	if !p.startRunning() {
		return ErrPollerClosed
	}
	defer close(p.done)

	var workers sync.WaitGroup
	for range p.cfg.Workers {
		w := newWorker(p)
		workers.Go(func() {
			for c := range p.jobs {
				w.serve(c)
			}
		})
	}
	dispatched := make(chan error, 1)
	go func() { dispatched <- p.dispatch() }()
	sweepStop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Go(func() { p.sweep(sweepStop) })

	var err error
	select {
	case <-ctx.Done():
		p.shutdownStart()
		err = <-dispatched
	case <-p.stop:
		p.shutdownStart()
		err = <-dispatched
	case err = <-dispatched:
		p.shutdownStart()
		p.log.Error("websocket poller failed", "err", err)
	}
	// The dispatcher and every Add have stopped queueing; once the
	// sweeper has too, drain the queue.
	close(sweepStop)
	sweeper.Wait()
	close(p.jobs)
	workers.Wait()
	p.closeAll()
	return err
}

// shutdownStart refuses new connections and stops the dispatcher.
func (p *Poller) shutdownStart() {
	p.mu.Lock()
	p.closeLocked()
	p.mu.Unlock()
	p.wake(p.wakefd)
}

// Close stops Run, waits for it to return, closes the connections left and
// releases the epoll instance. It is safe to call more than once.
func (p *Poller) Close() error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.mu.Lock()
	running := p.running
	p.closeLocked()
	p.mu.Unlock()
	if running {
		<-p.done
	} else {
		// Jobs queued by Add for initial bytes will never be served.
		for drained := false; !drained; {
			select {
			case c := <-p.jobs:
				if !c.state.CompareAndSwap(stBusy, stIdle) {
					c.finishClose()
				}
			default:
				drained = true
			}
		}
		p.closeAll()
	}
	p.bridges.Wait()
	var err error
	p.releaseOnce.Do(func() {
		p.wake(p.wwakefd)
		<-p.wdone
		err = errors.Join(unix.Close(p.wakefd), unix.Close(p.epfd), unix.Close(p.wwakefd), unix.Close(p.wepfd))
	})
	if err != nil {
		return fmt.Errorf("ws: close poller: %w", err)
	}
	return nil
}

// dispatch waits for readable connections and queues them to the workers
// until the eventfd is written.
func (p *Poller) dispatch() error {
	return p.waitEvents(p.epfd, func(c *Conn) {
		// A connection closed after epoll_wait returned its event is gone
		// from the table or no longer idle: skip it.
		if c.state.CompareAndSwap(stIdle, stBusy) || c.state.CompareAndSwap(stLinger, stLinger|stBusy) {
			p.jobs <- c
		}
	})
}

// waitEvents waits on epfd and calls f with the connection of each event
// still in the table, until the instance's eventfd (wakeID) is written.
func (p *Poller) waitEvents(epfd int, f func(*Conn)) error {
	events := make([]unix.EpollEvent, eventBatch)
	for {
		n, err := unix.EpollWait(epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("ws: epoll wait: %w", err)
		}
		for i := range n {
			id := eventID(&events[i])
			if id == wakeID {
				return nil
			}
			if c := p.lookup(id); c != nil {
				f(c)
			}
		}
	}
}

// closeAll closes every connection left, as many at a time as there are
// workers, since each close may wait for a slow client.
func (p *Poller) closeAll() {
	var conns []*Conn
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		for _, c := range s.m {
			conns = append(conns, c)
		}
		s.mu.Unlock()
	}
	p.closeConns(conns)
}

func (p *Poller) shard(id uint64) *connShard { return &p.shards[id%connShards] }

func (p *Poller) insert(c *Conn) {
	s := p.shard(c.id)
	s.mu.Lock()
	s.m[c.id] = c
	s.mu.Unlock()
}

func (p *Poller) remove(c *Conn) {
	p.bridged.Delete(c.id)
	s := p.shard(c.id)
	s.mu.Lock()
	delete(s.m, c.id)
	s.mu.Unlock()
}

func (p *Poller) lookup(id uint64) *Conn {
	s := p.shard(id)
	s.mu.Lock()
	c := s.m[id]
	s.mu.Unlock()
	return c
}

// eventID reads the connection id stored in an event's 64 data bits.
func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}
