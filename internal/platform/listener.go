package platform

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/internal/clientip"
	"github.com/heraldhq/herald/internal/httperr"
	"github.com/heraldhq/herald/internal/reqframe"
)

// DefaultMaxHeaderBytes caps the request line and headers of every
// request (Go's server allows 4 KiB of slack above it); a larger one is
// answered 431. 32 KiB holds any sane set of cookies and a token in the
// path.
const DefaultMaxHeaderBytes = 32 << 10

// LimitsConfig holds the abuse limits of the HTTP listener.
type LimitsConfig struct {
	// Conn are the gateway's connection-rate limits (per client address
	// and per app); zero fields take the gateway's defaults.
	Conn gateway.ConnLimits
	// MaxHeaderBytes caps request headers; zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// AuthFailRate and AuthFailBurst are the auth-failure throttle's
	// token bucket per client address (internal/authguard); zero takes
	// its defaults, a negative rate never throttles. Loopback and the
	// trusted proxies are Conn's, as for the connection-rate limits.
	AuthFailRate  float64
	AuthFailBurst int
	// HeaderTimeout, BodyTimeout and IdleTimeout bound how long a client
	// may take to send a request's headers, to send its announced body,
	// and to send its next request on a kept-alive connection; zero
	// takes DefaultReadHeaderTimeout, DefaultBodyReadTimeout and
	// DefaultIdleTimeout.
	HeaderTimeout time.Duration
	BodyTimeout   time.Duration
	IdleTimeout   time.Duration
}

// DefaultIdleTimeout closes a kept-alive HTTP connection that sends no
// further request. Without it (Go's server has none by default) an idle
// client holds a file descriptor for as long as it likes.
const DefaultIdleTimeout = 2 * time.Minute

// orDefault is d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// TLSConfig serves the listener over TLS (HTTPS and WSS) when both files
// are given.
type TLSConfig struct {
	// CertFile is a PEM certificate chain, KeyFile its private key.
	CertFile string
	KeyFile  string
}

// enabled reports whether TLS is configured.
func (c TLSConfig) enabled() bool { return c.CertFile != "" }

// validate checks the settings New can check without starting anything.
func (c *Config) validateListener() error {
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if c.Limits.MaxHeaderBytes < 0 {
		return errors.New("--max-header-bytes must not be negative")
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--http-header-timeout", c.Limits.HeaderTimeout}, {"--http-body-timeout", c.Limits.BodyTimeout}, {"--http-idle-timeout", c.Limits.IdleTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%s must not be negative", d.flag)
		}
	}
	if c.Limits.AuthFailBurst < 0 {
		return errors.New("--auth-fail-burst must not be negative")
	}
	if math.IsNaN(c.Limits.AuthFailRate) {
		return errors.New("--auth-fail-rate must be a number")
	}
	if _, err := clientip.New(c.Limits.Conn.TrustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	return nil
}

// headerSlack is what net/http reads of a request head above
// MaxHeaderBytes before it answers 431; the framing scanner follows as
// much.
const headerSlack = 4096

// maxHeaderBytes is the cap on a request's line and headers.
func (p *Platform) maxHeaderBytes() int {
	if p.cfg.Limits.MaxHeaderBytes == 0 {
		return DefaultMaxHeaderBytes
	}
	return p.cfg.Limits.MaxHeaderBytes
}

// newServer returns the HTTP server of the listener with its size and
// time limits. Requests of a connection whose framing is ambiguous (a
// request smuggling attempt: internal/reqframe) are answered 400, and the
// connection is closed.
func (p *Platform) newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           reqframe.Handler(h, refuseAmbiguous),
		ConnContext:       reqframe.ConnContext,
		ReadHeaderTimeout: orDefault(p.cfg.Limits.HeaderTimeout, DefaultReadHeaderTimeout),
		IdleTimeout:       orDefault(p.cfg.Limits.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    p.maxHeaderBytes(),
		ErrorLog:          slogErrorLog(p.cfg.Logger),
	}
}

// refuseAmbiguous answers a request of a connection found ambiguous.
func refuseAmbiguous(w http.ResponseWriter, r *http.Request) {
	httperr.Write(w, r, http.StatusBadRequest, channels.CodeOfStatus(http.StatusBadRequest),
		"ambiguous request framing (Content-Length with Transfer-Encoding, Content-Length twice, obs-fold header lines or a malformed chunked body): refused, and the connection closed")
}

// listen binds the HTTP listener (TLS-wrapped when configured) and sets
// p.addr. A port in use gets a message with the way out.
func (p *Platform) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", p.cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use by another process; pick another with --addr %s", p.cfg.Addr, nextAddr(p.cfg.Addr))
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w; pick another address with --addr", p.cfg.Addr, err)
	}
	p.addr = ln.Addr().String()
	tln, err := p.wrapTLS(ln)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	// Over TLS: the scanner reads what net/http reads, in plaintext.
	return reqframe.Listener(tln, p.maxHeaderBytes()+headerSlack), nil
}

// nextAddr returns addr with the next port, as a suggestion; an address
// it cannot read gets a free port (0).
func nextAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// wrapTLS returns ln, or ln serving TLS when it is configured. Only
// HTTP/1.1 is offered: WebSocket upgrades need it, and one protocol keeps
// the gateway's connection handling the same with and without TLS.
func (p *Platform) wrapTLS(ln net.Listener) (net.Listener, error) {
	if !p.cfg.TLS.enabled() {
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(p.cfg.TLS.CertFile, p.cfg.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tls12Suites,
	}), nil
}

// tls12Suites are the TLS 1.2 cipher suites served (TLS 1.3's are all
// modern and not configurable): ECDHE key exchange, for forward secrecy,
// with an AEAD cipher. crypto/tls's defaults add the CBC-SHA suites,
// which an operator's review flags (Lucky13-style padding oracles); every
// client that speaks TLS 1.2 has one of these (docs/security.md,
// "Security checks").
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// scheme is the URL scheme of the listener.
func (p *Platform) scheme() string {
	if p.cfg.TLS.enabled() {
		return "https"
	}
	return "http"
}
