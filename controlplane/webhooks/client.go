package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// MaxResponseBytes is how much of an answer's body is read (and
// discarded) so that the connection can be reused; the rest is dropped
// with the connection.
const MaxResponseBytes = 64 << 10

// Request headers of a webhook (docs/webhooks.md).
const (
	HeaderKey       = "X-Pusher-Key"
	HeaderSignature = "X-Pusher-Signature"
	HeaderDelivery  = "X-Herald-Delivery"
	contentType     = "application/json"
	// UserAgentPrefix precedes the version in User-Agent.
	UserAgentPrefix = "Herald-Webhooks/"
)

// ReservedHeaders are set by Herald; an endpoint's extra headers may not
// name them.
var ReservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent",
	HeaderKey, HeaderSignature, HeaderDelivery, "Transfer-Encoding", "Connection"}

// outcome is what one request came to.
type outcome struct {
	statusCode int
	// err is empty on a 2xx answer; otherwise a few words, never a body,
	// a header value or the URL (which may hold a token).
	err      string
	duration time.Duration
}

func (o outcome) ok() bool { return o.err == "" }

// sender makes webhook requests.
type sender struct {
	client    *http.Client
	userAgent string
	timeout   time.Duration
}

// Connection reuse: a few idle connections per endpoint stay warm for a
// while.
const (
	idleConnsPerHost = 4
	idleConnTimeout  = 90 * time.Second
)

func newSender(timeout time.Duration, allowPrivate bool, version string) *sender {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = dialControl
	}
	tr := &http.Transport{
		// No proxy from the environment: it would dial for us, past
		// the address check.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   idleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &sender{
		client: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A redirect is a failure, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: UserAgentPrefix + version,
		timeout:   timeout,
	}
}

// message is one signed request.
type message struct {
	url, deliveryID, key, secret string
	headers                      map[string]string
	body                         []byte
}

// send posts m once.
func (s *sender) send(ctx context.Context, m message) outcome {
	start := time.Now()
	o := s.do(ctx, m)
	o.duration = time.Since(start)
	return o
}

func (s *sender) do(ctx context.Context, m message) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url, bytes.NewReader(m.body))
	if err != nil {
		return outcome{err: "bad url"}
	}
	for k, v := range m.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set(HeaderKey, m.key)
	req.Header.Set(HeaderSignature, Sign(m.secret, m.body))
	req.Header.Set(HeaderDelivery, m.deliveryID)
	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{err: s.describe(err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
	_ = resp.Body.Close()
	o := outcome{statusCode: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		o.err = "redirect (status " + strconv.Itoa(resp.StatusCode) + ") not followed"
	default:
		o.err = "status " + strconv.Itoa(resp.StatusCode)
	}
	return o
}

// maxErrorLen caps a recorded error.
const maxErrorLen = 200

// describe names a transport failure without the URL that *url.Error
// would print.
func (s *sender) describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrAddressRefused):
		// Falls through to the dial error, which names the address.
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("timeout after %s", s.timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(err.Error())
}

func truncate(s string) string {
	if len(s) > maxErrorLen {
		return s[:maxErrorLen]
	}
	return s
}
