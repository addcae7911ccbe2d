package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultURL = "http://127.0.0.1:6001"
	// The demo app `herald dev` seeds.
	DefaultAppID  = "app-id"
	DefaultKey    = "app-key"
	DefaultSecret = "app-secret"

	DefaultSubscribers   = 100
	DefaultChannels      = 1
	DefaultChannelPrefix = "bench-"
	DefaultEvent         = "bench"
	DefaultDuration      = 10 * time.Second
	DefaultPayloadBytes  = 100
	// DefaultPublishers is how many publish requests may be in flight.
	DefaultPublishers = 16
	// DefaultConnectConcurrency bounds the connections being opened at
	// once.
	DefaultConnectConcurrency = 64
	// DefaultConnectTimeout bounds opening and subscribing one connection.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultPublishTimeout bounds one publish request.
	DefaultPublishTimeout = 10 * time.Second
	// DefaultDrain is how long a step waits after its last publish for the
	// deliveries still owed.
	DefaultDrain = 5 * time.Second
	// DefaultMaxP99 is the latency target a step must meet to count in
	// Best.
	DefaultMaxP99 = 50 * time.Millisecond
)

// drainPoll is how often a step checks whether every delivery arrived.
const drainPoll = 10 * time.Millisecond

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("invalid bench config")

// Config configures a Bench. Zero fields take the defaults above.
type Config struct {
	// URL is Herald's HTTP address: the REST API and, with ws://, the
	// WebSocket endpoint (/app/{key}).
	URL string
	// WSURLs, when set, are the HTTP addresses the subscribers connect
	// to instead of URL, round robin (subscriber g to WSURLs[g mod
	// len]): every gateway of a fleet that has no balancer. URL stays the
	// REST API's.
	WSURLs []string
	// Sources are local addresses the subscribers' connections are bound
	// to, round robin: each address has its own ephemeral ports (about
	// 28,000 on Linux), which one address runs out of.
	Sources []netip.Addr
	// Workers, when positive, opens the subscribers in that many worker
	// processes started by SpawnWorker, each under its own open-file
	// limit; this process publishes and merges what they count
	// (fleet.go).
	Workers     int
	SpawnWorker SpawnFunc
	// First is the global index of this process's first subscriber (in
	// a worker): the index picks a subscriber's channel and URL, so that
	// the workers together spread them as one process would.
	First int

	AppID  string
	Key    string
	Secret string

	// Subscribers are spread over Channels channels named ChannelPrefix
	// followed by the channel's index.
	Subscribers   int
	Channels      int
	ChannelPrefix string
	// Event is the name of the published events.
	Event string
	// Duration is how long each step publishes.
	Duration time.Duration
	// PayloadBytes is the size of each event's data.
	PayloadBytes int
	// Publishers is how many publish requests may be in flight at once,
	// over as many keep-alive HTTP connections.
	Publishers         int
	ConnectConcurrency int
	ConnectTimeout     time.Duration
	PublishTimeout     time.Duration
	Drain              time.Duration
	MaxP99             time.Duration

	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	setDefault(&c.URL, DefaultURL)
	c.URL = strings.TrimSuffix(c.URL, "/")
	setDefault(&c.AppID, DefaultAppID)
	setDefault(&c.Key, DefaultKey)
	setDefault(&c.Secret, DefaultSecret)
	setDefault(&c.Subscribers, DefaultSubscribers)
	setDefault(&c.Channels, DefaultChannels)
	setDefault(&c.ChannelPrefix, DefaultChannelPrefix)
	setDefault(&c.Event, DefaultEvent)
	setDefault(&c.Duration, DefaultDuration)
	setDefault(&c.PayloadBytes, DefaultPayloadBytes)
	setDefault(&c.Publishers, DefaultPublishers)
	setDefault(&c.ConnectConcurrency, DefaultConnectConcurrency)
	setDefault(&c.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&c.PublishTimeout, DefaultPublishTimeout)
	setDefault(&c.Drain, DefaultDrain)
	setDefault(&c.MaxP99, DefaultMaxP99)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// setDefault sets *v to def when it is the zero value (or negative).
func setDefault[T int | string | time.Duration](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}

func (c *Config) validate() error {
	if c.Channels > c.Subscribers {
		return fmt.Errorf("%w: %d channels for %d subscribers: every channel needs one", ErrConfig, c.Channels, c.Subscribers)
	}
	if c.Workers > 0 && c.SpawnWorker == nil {
		return fmt.Errorf("%w: %d workers and no way to start them", ErrConfig, c.Workers)
	}
	if c.Workers > c.Subscribers {
		return fmt.Errorf("%w: %d workers for %d subscribers: every worker needs one", ErrConfig, c.Workers, c.Subscribers)
	}
	return nil
}

// Bench is one benchmark: a set of subscribers, opened by Connect, that
// Step measures at one publish rate after another. Its methods must not be
// called concurrently.
type Bench struct {
	cfg Config
	// wsURLs are the subscribers' WebSocket URLs, used round robin.
	wsURLs []string
	// eventsURL is the REST API's publish endpoint; eventsPath its path,
	// which the signature covers.
	eventsURL  string
	eventsPath string
	client     *http.Client

	subs []*subscriber
	wg   sync.WaitGroup // the subscribers' goroutines
	step uint64
	// aud is who counts the deliveries: this process's subscribers, or
	// the workers' (fleet).
	aud audience
	// perChannel[c] counts the subscribers Connect opened on channel c:
	// each is owed every publish on c.
	perChannel []int64
	connected  Connected
	// tolerate has Connect count the subscribers that cannot connect
	// instead of failing (a worker: its parent reports them).
	tolerate bool

	hist Histogram
	// Per step: distinct deliveries, and when the last one arrived.
	delivered atomic.Int64
	lastRecv  atomic.Int64

	malformed    atomic.Int64
	disconnected atomic.Int64
	closing      atomic.Bool
}

// New returns a Bench; Connect opens its subscribers.
func New(cfg Config) (*Bench, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bases := cfg.WSURLs
	if len(bases) == 0 {
		bases = []string{cfg.URL}
	}
	var urls []string
	for _, base := range bases {
		u, err := wsURL(strings.TrimSuffix(base, "/"), cfg.Key)
		if err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	api, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	api.Path += "/apps/" + url.PathEscape(cfg.AppID) + "/events"
	api.RawQuery = ""
	transport := &http.Transport{
		MaxIdleConnsPerHost: cfg.Publishers,
		MaxConnsPerHost:     cfg.Publishers,
		DisableCompression:  true,
	}
	b := &Bench{
		cfg:        cfg,
		wsURLs:     urls,
		eventsURL:  api.String(),
		eventsPath: api.Path,
		client:     &http.Client{Transport: transport, Timeout: cfg.PublishTimeout},
	}
	b.aud = local{b}
	return b, nil
}

// Config returns the configuration in use, defaults applied.
func (b *Bench) Config() Config { return b.cfg }

func (b *Bench) channelName(i int) string { return b.cfg.ChannelPrefix + strconv.Itoa(i) }

// Connected is how Connect went.
type Connected struct {
	// Open counts the subscribers connected and subscribed; Failed those
	// that could not be (a fleet's workers only count them: a single
	// process fails Connect instead).
	Open       int    `json:"open"`
	Failed     int    `json:"failed"`
	FirstError string `json:"first_error,omitempty"`
	// Elapsed is Connect's wall time; Rate is Open over it.
	Elapsed time.Duration `json:"elapsed_ns"`
	Rate    float64       `json:"rate"`
	// PerChannel counts the open subscribers of each channel.
	PerChannel []int64 `json:"per_channel,omitempty"`
}

// Connect opens the subscribers, ConnectConcurrency at a time, subscriber
// i on channel i mod Channels; progress, if not nil, is called with the
// number open after each one. Each starts reading as soon as it is
// subscribed, so that it answers the server's pings. Connect fails,
// closing what it opened, if any subscriber cannot connect and subscribe;
// the Bench is then unusable. With Workers, the workers open them
// (progress is not called) and only a fleet where none connected fails.
func (b *Bench) Connect(ctx context.Context, progress func(open int)) error {
	start := time.Now()
	var err error
	if b.cfg.Workers > 0 {
		err = b.connectFleet(ctx)
	} else {
		err = b.connectLocal(ctx, progress)
	}
	if err != nil {
		return err
	}
	b.connected.Elapsed = time.Since(start)
	if s := b.connected.Elapsed.Seconds(); s > 0 {
		b.connected.Rate = float64(b.connected.Open) / s
	}
	b.connected.PerChannel = b.perChannel
	return nil
}

// Connected reports how Connect went.
func (b *Bench) Connected() Connected { return b.connected }

// connectLocal opens the subscribers in this process.
func (b *Bench) connectLocal(ctx context.Context, progress func(open int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	subs := make([]*subscriber, b.cfg.Subscribers)
	var (
		mu       sync.Mutex
		open     int
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, b.cfg.ConnectConcurrency)
	for i := range subs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, ccancel := context.WithTimeout(ctx, b.cfg.ConnectTimeout)
			defer ccancel()
			g := b.cfg.First + i
			s, err := subscribe(cctx, b, b.wsURLs[g%len(b.wsURLs)], b.source(i), g%b.cfg.Channels)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("subscriber %d: %w", g, err)
					if !b.tolerate {
						cancel()
					}
				}
				return
			}
			subs[i] = s
			b.wg.Go(s.run)
			open++
			if progress != nil {
				progress(open)
			}
		})
	}
	wg.Wait()
	// Only the subscribers that connected: a tolerated failure leaves a
	// hole.
	b.subs = slices.DeleteFunc(subs, func(s *subscriber) bool { return s == nil })
	b.perChannel = make([]int64, b.cfg.Channels)
	for _, s := range b.subs {
		b.perChannel[s.channel]++
	}
	b.connected = Connected{Open: open, Failed: failed}
	if firstErr != nil {
		b.connected.FirstError = firstErr.Error()
	}
	switch {
	case firstErr != nil && !b.tolerate:
	case ctx.Err() != nil:
		firstErr = ctx.Err()
	default:
		return nil
	}
	b.closeSubscribers()
	return firstErr
}

// source is the local address of subscriber i's connection; nil lets
// the system choose.
func (b *Bench) source(i int) *net.TCPAddr {
	if len(b.cfg.Sources) == 0 {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(b.cfg.Sources[i%len(b.cfg.Sources)], 0))
}

// Open returns the number of subscribers whose connection is up.
func (b *Bench) Open() int { return len(b.subs) - int(b.disconnected.Load()) }

// subscriberDone counts a subscriber whose connection ended before Close.
func (b *Bench) subscriberDone(err error) {
	if b.closing.Load() {
		return
	}
	if b.disconnected.Add(1) == 1 {
		b.cfg.Logger.Warn("bench: a subscriber was disconnected", "err", err)
	}
}

// received records a distinct delivery of the current step, d after it
// was published.
func (b *Bench) received(d time.Duration) {
	b.hist.Record(d)
	b.delivered.Add(1)
	now := time.Now().UnixNano()
	for {
		last := b.lastRecv.Load()
		if now <= last || b.lastRecv.CompareAndSwap(last, now) {
			return
		}
	}
}

// Close disconnects the subscribers (a fleet's workers: it ends them)
// and waits for their goroutines.
func (b *Bench) Close() error {
	var err error
	if f, ok := b.aud.(*fleet); ok {
		err = f.close()
	}
	b.closeSubscribers()
	b.client.CloseIdleConnections()
	return err
}

func (b *Bench) closeSubscribers() {
	b.closing.Store(true)
	for _, s := range b.subs {
		if s != nil {
			s.close()
		}
	}
	b.wg.Wait()
}
