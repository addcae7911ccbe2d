package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Direction is one way through the proxy.
type Direction int

// The directions: Up is from the client to the target, Down back.
const (
	Up Direction = iota
	Down
)

// Defaults of zero Config fields.
const (
	// DefaultDialTimeout bounds the dial of the target per connection.
	DefaultDialTimeout = 2 * time.Second
	// chunkBytes is how much one read of a side moves at most.
	chunkBytes = 32 << 10
	// queuedChunks is how many chunks a direction holds while they wait
	// out the latency; past it the reader waits, which is what a slow
	// link does to a sender.
	queuedChunks = 1024
)

// ErrClosed is returned by methods of a closed proxy.
var ErrClosed = errors.New("faultproxy: closed")

// Config describes a proxy.
type Config struct {
	// Listen is the address to listen on ("127.0.0.1:0" picks a port).
	// Required.
	Listen string
	// Target is the address every accepted connection is relayed to.
	// Required.
	Target string
	// DialTimeout bounds each dial of Target; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Proxy relays TCP connections to a target and injects faults. Its
// goroutines are its own: Close stops them all and waits.
type Proxy struct {
	cfg Config
	ln  net.Listener
	wg  sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	refusing bool
	latency  [2]time.Duration
	links    map[*link]struct{}
	accepted int
	refused  int
}

// New listens on cfg.Listen and starts relaying.
func New(cfg Config) (*Proxy, error) {
	if cfg.Listen == "" || cfg.Target == "" {
		return nil, errors.New("faultproxy: Listen and Target are required")
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{cfg: cfg, ln: ln, links: map[*link]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy relays to.
func (p *Proxy) Target() string { return p.cfg.Target }

// Cut closes every open connection, both sides, the way a broken
// network path looks to each end once it notices. New connections are
// still accepted unless Refuse is on.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
	return len(links)
}

// Refuse makes the proxy close every new connection at once (on) or
// relay them again (off). Open connections are left alone; Cut them too
// for a full outage.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusing = on
}

// SetLatency delays what goes in direction d by lat from now on (bytes
// already queued keep their delay). Order is kept; the bandwidth is not
// limited.
func (p *Proxy) SetLatency(d Direction, lat time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency[d] = lat
}

// Restore turns refusal and latency off: a clean link again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusing = false
	p.latency = [2]time.Duration{}
}

// Stats are counts since the proxy started.
type Stats struct {
	// Open is how many connections are being relayed now.
	Open int
	// Accepted counts connections relayed; Refused those closed at once.
	Accepted, Refused int
}

// Stats returns the proxy's counts.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Open: len(p.links), Accepted: p.accepted, Refused: p.refused}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		refuse := p.refusing || p.closed
		if refuse {
			p.refused++
		}
		p.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		p.wg.Go(func() { p.relay(c) })
	}
}

// relay dials the target for client and moves bytes both ways until
// either side ends or the link is cut.
func (p *Proxy) relay(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.cfg.Target, p.cfg.DialTimeout)
	if err != nil {
		_ = client.Close()
		return
	}
	l := &link{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close()
		return
	}
	p.links[l] = struct{}{}
	p.accepted++
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pump(l, server, client, Up) })
	wg.Go(func() { p.pump(l, client, server, Down) })
	wg.Wait()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// chunk is bytes read from one side and when they may be written to the
// other.
type chunk struct {
	b  []byte
	at time.Time
}

// pump copies src to dst in direction d, each chunk held for the
// latency set when it was read; the link closes when either side ends.
func (p *Proxy) pump(l *link, dst, src net.Conn, d Direction) {
	queue := make(chan chunk, queuedChunks)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer l.close()
		for c := range queue {
			if wait := time.Until(c.at); wait > 0 {
				time.Sleep(wait)
			}
			if _, err := dst.Write(c.b); err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	defer close(queue)
	buf := make([]byte, chunkBytes)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			lat := p.latency[d]
			p.mu.Unlock()
			select {
			case queue <- chunk{b: append([]byte(nil), buf[:n]...), at: time.Now().Add(lat)}:
			case <-l.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// link is one relayed connection: the client's side and the target's.
type link struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// Group is proxies faulted together: one process's links to every node
// of a cluster, say.
type Group []*Proxy

// Cut cuts every proxy's connections and returns how many it closed.
func (g Group) Cut() int {
	n := 0
	for _, p := range g {
		n += p.Cut()
	}
	return n
}

// Refuse turns refusal on or off on every proxy.
func (g Group) Refuse(on bool) {
	for _, p := range g {
		p.Refuse(on)
	}
}

// SetLatency sets direction d's latency on every proxy.
func (g Group) SetLatency(d Direction, lat time.Duration) {
	for _, p := range g {
		p.SetLatency(d, lat)
	}
}

// Restore restores every proxy.
func (g Group) Restore() {
	for _, p := range g {
		p.Restore()
	}
}

// Stats sums the proxies' counts.
func (g Group) Stats() Stats {
	var s Stats
	for _, p := range g {
		ps := p.Stats()
		s.Open += ps.Open
		s.Accepted += ps.Accepted
		s.Refused += ps.Refused
	}
	return s
}
