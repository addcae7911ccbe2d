// Package authguard throttles credential guessing (docs/security.md,
// "Auth-failure throttling"). Failed authentications are counted per
// client address in a token bucket: each failure takes a token, the
// bucket refills at Rate per second up to Burst. An address whose bucket
// is empty is throttled: its requests that carry credentials are refused
// before the credentials are checked, so that a guesser learns nothing
// more until a token comes back, while a success (which never takes a
// token) stays possible as soon as one has. The gateway and the control
// plane each hold their own Guard: a process counts only what it saw.
package authguard

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/clientip"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tick"
)

// Defaults of Config, documented in the README's flag table.
const (
	// DefaultRate is how many failed authentications per second one
	// address may make in the long run.
	DefaultRate = 5
	// DefaultBurst is how many it may make at once: room for a client
	// with a stale secret or token to fail a few times and be fixed.
	DefaultBurst = 20
	// sweepInterval is how often refilled buckets are dropped.
	sweepInterval = 30 * time.Second
)

// Kind is what failed to authenticate; it labels the metrics.
type Kind string

// The kinds of authentication the guard counts.
const (
	// KindREST is a tenant API request's signature or Basic credentials.
	KindREST Kind = "rest"
	// KindToken is a token refused on a WebSocket or SSE connect, in a
	// herald:refresh, or as a Bearer on the tenant API.
	KindToken Kind = "token"
	// KindChannelAuth is the signature of a pusher:subscribe to a
	// private or presence channel, or of a pusher:signin.
	KindChannelAuth Kind = "channel_auth"
	// KindAdmin is an admin API token (the console uses the admin API).
	KindAdmin Kind = "admin"
)

// Kinds lists every Kind.
var Kinds = []Kind{KindREST, KindToken, KindChannelAuth, KindAdmin}

// Config configures a Guard. Zero fields take the defaults.
type Config struct {
	// Rate is the failures per second an address may make in the long
	// run; negative never throttles (failures are still counted).
	Rate float64
	// Burst is the failures an address may make at once.
	Burst int
	// Loopback counts loopback clients too; by default they are exempt,
	// as from the connection-rate limits.
	Loopback bool
	// TrustedProxies are the networks whose X-Forwarded-For names the
	// client (internal/clientip).
	TrustedProxies []string
	// MaxKeys bounds the addresses held; zero means
	// ratelimit.DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Guard counts failed authentications per client address. A nil *Guard
// counts nothing and throttles no one. It is safe for concurrent use.
type Guard struct {
	buckets   *ratelimit.Limiter
	resolver  *clientip.Resolver
	loopback  bool
	failures  *prometheus.CounterVec
	throttled *prometheus.CounterVec
}

// Client is the address a request's failures count against. The zero
// Client (a loopback client, an address that does not parse) is exempt.
type Client struct{ key string }

// Exempt reports whether c is never throttled.
func (c Client) Exempt() bool { return c.key == "" }

// New returns a Guard.
func New(cfg Config) (*Guard, error) {
	if cfg.Burst < 0 || math.IsNaN(cfg.Rate) {
		return nil, errors.New("authguard: negative burst or rate not a number")
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	res, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("authguard: %w", err)
	}
	g := &Guard{
		buckets:  ratelimit.New(ratelimit.Config{Rate: cfg.Rate, Burst: cfg.Burst, MaxKeys: cfg.MaxKeys, Now: cfg.Now}),
		resolver: res,
		loopback: cfg.Loopback,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Subsystem: "auth", Name: "failures_total",
			Help: "Failed authentications (credentials presented and refused), by kind."}, []string{"kind"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Subsystem: "auth", Name: "throttled_total",
			Help: "Requests refused unchecked because their address failed to authenticate too often (--auth-fail-rate), by kind."}, []string{"kind"}),
	}
	for _, k := range Kinds {
		// Every kind shows from the start, at 0.
		g.failures.WithLabelValues(string(k))
		g.throttled.WithLabelValues(string(k))
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{g.failures, g.throttled} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("authguard metrics: %w", err)
			}
		}
	}
	return g, nil
}

// Client returns the client of r: the peer, or through a trusted proxy
// the address it names.
func (g *Guard) Client(r *http.Request) Client {
	if g == nil {
		return Client{}
	}
	a, ok := g.resolver.IP(r)
	if !ok || (a.IsLoopback() && !g.loopback) {
		return Client{}
	}
	return Client{key: a.String()}
}

// Throttled returns how long c must wait before its credentials of kind
// are checked again, counting the refusal; 0 means check them now.
func (g *Guard) Throttled(c Client, kind Kind) time.Duration {
	if g == nil || c.Exempt() {
		return 0
	}
	wait := g.buckets.Wait(c.key)
	if wait > 0 {
		g.throttled.WithLabelValues(string(kind)).Inc()
	}
	return wait
}

// Failed counts one refused credential of kind presented by c.
func (g *Guard) Failed(c Client, kind Kind) {
	if g == nil {
		return
	}
	g.failures.WithLabelValues(string(kind)).Inc()
	if !c.Exempt() {
		g.buckets.Allow(c.key)
	}
}

// Len is how many addresses are held (refilled ones are dropped by Run).
func (g *Guard) Len() int {
	if g == nil {
		return 0
	}
	return g.buckets.Len()
}

// Run drops refilled buckets every sweep interval until ctx is done, so
// that memory holds only the addresses that failed lately.
func (g *Guard) Run(ctx context.Context) {
	if g == nil || g.buckets == nil {
		return
	}
	tick.Every(ctx, sweepInterval, nil, g.buckets.Sweep)
}

// Message is the text of a throttled refusal.
func Message(wait time.Duration) string {
	return fmt.Sprintf("too many failed authentications from this address; retry in %d s", ratelimit.RetryAfterSeconds(wait))
}
