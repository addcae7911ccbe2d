package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/clientip"
	"github.com/heraldhq/herald/internal/ratelimit"
)

// Connection-rate limits (docs/protocol.md, "Connection-rate limits"):
// token buckets per client address and per app, checked when a WebSocket
// or SSE connection opens. The per-address limit answers HTTP 429 before
// any upgrade, which costs the server least; the per-app limit is known
// only once the app is, so a WebSocket learns it inside the protocol
// (pusher:error 4100, channels.PusherOverCapacity, then close 4100:
// pusher-js retries after a back-off).

// Defaults of ConnLimits, documented in the README's flag table.
const (
	// DefaultConnRatePerIP is how many connections per second one client
	// address may open in the long run.
	DefaultConnRatePerIP = 10
	// DefaultConnBurstPerIP lets an address open this many at once (a
	// page with several tabs, a NAT of a small office).
	DefaultConnBurstPerIP = 100
	// DefaultConnRatePerApp is how many connections per second one app
	// may open on this gateway: a reconnect storm after a deploy is
	// spread over time instead of hitting the gateway at once.
	DefaultConnRatePerApp = 1000
	// DefaultConnBurstPerApp is the per-app burst.
	DefaultConnBurstPerApp = 2000
	// limiterSweepInterval is how often refilled buckets are dropped.
	limiterSweepInterval = 30 * time.Second
)

// ConnLimits configures the connection-rate limits. Zero rates and bursts
// take the defaults; a negative rate turns that limit off.
type ConnLimits struct {
	RatePerIP   float64
	BurstPerIP  int
	RatePerApp  float64
	BurstPerApp int
	// Loopback applies the limits to loopback clients too; by default
	// they are exempt, so that local development and tests are not
	// throttled.
	Loopback bool
	// TrustedProxies are the networks (CIDR or address) whose
	// X-Forwarded-For is believed; other peers are the client.
	TrustedProxies []string
}

func (l *ConnLimits) setDefaults() {
	if l.RatePerIP == 0 {
		l.RatePerIP = DefaultConnRatePerIP
	}
	if l.BurstPerIP <= 0 {
		l.BurstPerIP = DefaultConnBurstPerIP
	}
	if l.RatePerApp == 0 {
		l.RatePerApp = DefaultConnRatePerApp
	}
	if l.BurstPerApp <= 0 {
		l.BurstPerApp = DefaultConnBurstPerApp
	}
}

// connLimiter holds the buckets of the connection-rate limits.
type connLimiter struct {
	cfg      ConnLimits
	clientIP *clientip.Resolver
	perIP    *ratelimit.Limiter
	perApp   *ratelimit.Limiter
}

func newConnLimiter(cfg ConnLimits, now func() time.Time) (*connLimiter, error) {
	cfg.setDefaults()
	res, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	return &connLimiter{
		cfg:      cfg,
		clientIP: res,
		perIP:    ratelimit.New(ratelimit.Config{Rate: cfg.RatePerIP, Burst: cfg.BurstPerIP, Now: now}),
		perApp:   ratelimit.New(ratelimit.Config{Rate: cfg.RatePerApp, Burst: cfg.BurstPerApp, Now: now}),
	}, nil
}

// client reports whether r comes from a loopback client that the limits
// leave alone, and the client address otherwise ("" if unknown).
func (l *connLimiter) client(r *http.Request) (ip string, exempt bool) {
	a, ok := l.clientIP.IP(r)
	if !ok {
		return "", false
	}
	if a.IsLoopback() && !l.cfg.Loopback {
		return "", true
	}
	return a.String(), false
}

// allowIP checks the per-address limit of a new connection and answers
// 429 with Retry-After when it is exceeded. It returns whether the request
// may go on, and whether it is exempt from the limits.
func (g *Gateway) allowIP(w http.ResponseWriter, r *http.Request, transport string) (ok, exempt bool) {
	ip, exempt := g.limits.client(r)
	if exempt || ip == "" {
		return true, exempt
	}
	if ok, retry := g.limits.perIP.Allow(ip); !ok {
		g.metrics.rateLimited.WithLabelValues("ip", transport).Inc()
		tooMany(w, r, retry, "too many connections from this address")
		return false, false
	}
	return true, false
}

// allowApp checks the per-app limit; retry is how long until a connection
// would be allowed.
func (g *Gateway) allowApp(appID string, exempt bool, transport string) (ok bool, retry time.Duration) {
	if exempt {
		return true, 0
	}
	ok, retry = g.limits.perApp.Allow(appID)
	if !ok {
		g.metrics.rateLimited.WithLabelValues("app", transport).Inc()
	}
	return ok, retry
}

// tooMany answers 429 with Retry-After in whole seconds, rounded up.
func tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(retry)))
	httpError(w, r, http.StatusTooManyRequests, msg)
}

// sweepLimiters drops refilled buckets, every limiterSweepInterval, so
// that the maps hold only addresses and apps that connected lately.
func (g *Gateway) sweepLimiters() {
	g.limits.perIP.Sweep()
	g.limits.perApp.Sweep()
}
