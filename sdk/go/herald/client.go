package herald

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
	"github.com/heraldhq/herald/sdk/go/internal/sign"
)

// DefaultTimeout bounds each HTTP request of a Client built without an
// HTTPClient.
const DefaultTimeout = 30 * time.Second

// maxResponseBytes bounds how much of an answer is read: a history page
// of 1,000 large messages fits.
const maxResponseBytes = 64 << 20

// userAgent names the SDK in requests.
const userAgent = "herald-sdk-go"

// Config configures a Client.
type Config struct {
	// AppID, Key and Secret are the app's id and one of its keys with its
	// secret. All three are required.
	AppID, Key, Secret string
	// BaseURL is Herald's HTTP address, e.g. "http://127.0.0.1:6001" or
	// "https://herald.example.com" (a path prefix in front of /apps is
	// kept). Required.
	BaseURL string
	// HTTPClient sends the requests; nil: a client with DefaultTimeout.
	HTTPClient *http.Client
	// EncryptionMasterKey (32 bytes) enables private-encrypted channels:
	// Trigger encrypts their data and AuthorizeChannel hands subscribers
	// the channel's shared_secret. Herald never sees it.
	EncryptionMasterKey []byte
	// Retry is the retry policy of idempotent calls (RetryPolicy).
	Retry RetryPolicy
	// WebhookKeys are more key→secret pairs VerifyWebhook accepts
	// besides Key/Secret: Herald signs webhooks with the app's oldest live
	// key, and an operator endpoint with its own.
	WebhookKeys map[string]string
	// MaxWebhookBytes bounds a webhook body VerifyWebhook reads; 0:
	// DefaultMaxWebhookBytes.
	MaxWebhookBytes int64
}

// Client calls Herald's HTTP API for one app. It is safe for concurrent
// use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
	now  func() time.Time
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.AppID == "":
		return nil, errors.New("herald: Config.AppID is required")
	case cfg.Key == "" || cfg.Secret == "":
		return nil, errors.New("herald: Config.Key and Config.Secret are required")
	case cfg.BaseURL == "":
		return nil, errors.New("herald: Config.BaseURL is required")
	}
	if cfg.EncryptionMasterKey != nil && len(cfg.EncryptionMasterKey) != encrypted.MasterKeyLen {
		return nil, fmt.Errorf("herald: %w", encrypted.ErrMasterKey)
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("herald: Config.BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.MaxWebhookBytes <= 0 {
		cfg.MaxWebhookBytes = DefaultMaxWebhookBytes
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{cfg: cfg, base: base, http: hc, now: time.Now}, nil
}

// AppID is the app the client calls for.
func (c *Client) AppID() string { return c.cfg.AppID }

// request is one API call.
type request struct {
	method string
	// segments follow /apps/{id}: each is escaped in the URL and signed
	// unescaped, as the server verifies the decoded path.
	segments []string
	query    url.Values
	body     any // JSON-encoded when not nil
	header   http.Header
	// idempotent calls are retried (RetryPolicy).
	idempotent bool
}

// do sends r, retrying as the policy says when r is idempotent, and
// decodes a 2xx answer into out (if not nil). When the retries end, the
// last attempt's error is returned.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("herald: encode request: %w", err)
		}
	}
	attempts := 1
	if r.idempotent {
		attempts = c.cfg.Retry.MaxAttempts
	}
	for n := 0; ; n++ {
		err := c.once(ctx, r, body, out)
		if err == nil || n+1 >= attempts {
			return err
		}
		// A request the caller's context ended is not retried; one that
		// the HTTP client's own timeout ended is.
		if ctx.Err() != nil {
			return err
		}
		wait, ok := c.cfg.Retry.delay(n, err)
		if !ok || sleep(ctx, wait) != nil {
			return err
		}
	}
}

// once sends one attempt, signed anew (the timestamp is part of it).
func (c *Client) once(ctx context.Context, r request, body []byte, out any) error {
	signed := "/apps/" + c.cfg.AppID
	escaped := "/apps/" + url.PathEscape(c.cfg.AppID)
	for _, s := range r.segments {
		signed += "/" + s
		escaped += "/" + url.PathEscape(s)
	}
	q := url.Values{}
	for k, vs := range r.query {
		q[k] = append([]string(nil), vs...)
	}
	q = sign.Request(c.cfg.Key, c.cfg.Secret, r.method, signed, q, body, c.now())
	u := *c.base
	u.Path = c.base.Path + signed
	u.RawPath = c.base.EscapedPath() + escaped
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("herald: %w", err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL, with its signature, stays out of the message.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("herald: %s %s: %w", r.method, signed, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("herald: %s %s: read answer: %w", r.method, signed, err)
	}
	if len(raw) > maxResponseBytes {
		return fmt.Errorf("herald: %s %s: answer over %d bytes", r.method, signed, maxResponseBytes)
	}
	if resp.StatusCode/100 != 2 {
		return c.apiError(resp, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("herald: %s %s: decode answer: %w", r.method, signed, err)
		}
	}
	return nil
}

// apiError turns an error answer into an *Error.
func (c *Client) apiError(resp *http.Response, raw []byte) *Error {
	e := &Error{
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	var body struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
		return e
	}
	e.Code = statusCodes[resp.StatusCode]
	if e.Code == "" {
		e.Code = CodeInternal
	}
	e.Message = strings.TrimSpace(string(raw[:min(len(raw), maxErrorText)]))
	return e
}

// maxErrorText bounds the text of a non-JSON error answer kept in an
// *Error.
const maxErrorText = 512
