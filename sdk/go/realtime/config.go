package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config's zero values.
const (
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = 30 * time.Second
	DefaultHeartbeat      = 120 * time.Second // pusher-js's ceiling; the server's activity_timeout wins when shorter
	DefaultPongTimeout    = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultOutboxSize     = 100
	DefaultPublishTimeout = 60 * time.Second
	DefaultMessageBuffer  = 256
	DefaultStateBuffer    = 32
	// MaxPublishTimeout keeps a resend inside the server's two-minute
	// idempotency window, so that a publish is never stored twice.
	MaxPublishTimeout = 110 * time.Second
	protocolVersion   = 7
	clientName        = "herald-go"
)

// AuthResponse authorizes a private, encrypted or presence channel, as a
// backend's auth endpoint answers (the server SDK's AuthorizeChannel).
type AuthResponse struct {
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data,omitempty"`
	// SharedSecret is the base64 key of a private-encrypted channel.
	SharedSecret string `json:"shared_secret,omitempty"`
}

// UserAuth authenticates the connection's user for SignIn (the server
// SDK's AuthenticateUser).
type UserAuth struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

// Config configures a Client. Key and one of URL or Host are required;
// every duration and size has a default (the Default constants).
type Config struct {
	// URL is Herald's base URL, e.g. "http://127.0.0.1:6001" (ws, wss,
	// http or https; a path is kept as a prefix, as --ws-path-prefix needs).
	URL string
	// Host is "host:port", for ws:// without a URL.
	Host string
	// Key is the app key.
	Key string

	// TokenProvider returns a Herald token (a JWT). With it the connection
	// is opened with ?token= and its capabilities replace signatures; it
	// is asked again before each connection, on token_expiring (the token
	// is refreshed in place), and once after a 4009 close, unless that
	// close is a termination by the app (ErrTerminated).
	TokenProvider func(ctx context.Context) (string, error)
	// Authorizer signs private, encrypted and presence subscriptions on a
	// connection without a token. Its ctx carries Subscribe's context (its
	// values, its deadline) while Subscribe waits, and on a resubscription
	// after a reconnection the socket's; it ends when either does, when
	// the subscription ends, or after ConnectTimeout.
	Authorizer func(ctx context.Context, socketID, channel string) (AuthResponse, error)
	// UserAuthenticator signs SignIn.
	UserAuthenticator func(ctx context.Context, socketID string) (UserAuth, error)
	// EncryptionKey returns a private-encrypted channel's 32-byte key when
	// the authorization carries none (token connections); see
	// MasterKeyEncryption.
	EncryptionKey func(ctx context.Context, channel string) ([]byte, error)

	// HTTPClient is used for the WebSocket handshake (its Transport,
	// proxies, TLS); Dialer replaces the whole dial when set.
	HTTPClient *http.Client
	// Header is sent with the handshake (Origin, for instance).
	Header http.Header
	// Dialer opens the WebSocket; its result must speak the protocol's
	// text frames. Tests and custom transports set it.
	Dialer Dialer

	BackoffMin time.Duration
	BackoffMax time.Duration
	// Heartbeat is the silence after which the client pings; the server's
	// activity_timeout is used when shorter.
	Heartbeat time.Duration
	// PongTimeout is how long a ping waits for any frame before the
	// connection is dropped and reopened.
	PongTimeout    time.Duration
	ConnectTimeout time.Duration
	WriteTimeout   time.Duration

	// OutboxSize bounds the publishes waiting for their ack.
	OutboxSize int
	// PublishTimeout bounds a Publish whose context has no deadline (at
	// most MaxPublishTimeout).
	PublishTimeout time.Duration
	// MessageBuffer bounds each subscription's undelivered messages.
	MessageBuffer int
	// StateBuffer bounds States(); the oldest change is dropped when full.
	StateBuffer int

	Logger *slog.Logger
}

// Dialer opens one WebSocket to url.
type Dialer func(ctx context.Context, url string, header http.Header) (Socket, error)

// Socket is the WebSocket the client needs: text messages in and out.
type Socket interface {
	Read(ctx context.Context) ([]byte, error)
	Write(ctx context.Context, msg []byte) error
	// Close sends a close frame with code and ends the connection; code 0
	// drops it at once.
	Close(code int, reason string) error
	// CloseCode is the close code an error of Read carries, or -1.
	CloseCode(err error) int
}

func (c Config) withDefaults() (Config, error) {
	if c.Key == "" {
		return c, errors.New("realtime: config needs Key")
	}
	if c.URL == "" && c.Host == "" {
		return c, errors.New("realtime: config needs URL or Host")
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.BackoffMin, DefaultBackoffMin)
	setDur(&c.BackoffMax, DefaultBackoffMax)
	setDur(&c.Heartbeat, DefaultHeartbeat)
	setDur(&c.PongTimeout, DefaultPongTimeout)
	setDur(&c.ConnectTimeout, DefaultConnectTimeout)
	setDur(&c.WriteTimeout, DefaultWriteTimeout)
	setDur(&c.PublishTimeout, DefaultPublishTimeout)
	c.PublishTimeout = min(c.PublishTimeout, MaxPublishTimeout)
	setInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	setInt(&c.OutboxSize, DefaultOutboxSize)
	setInt(&c.MessageBuffer, DefaultMessageBuffer)
	setInt(&c.StateBuffer, DefaultStateBuffer)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Dialer == nil {
		c.Dialer = wsDialer(c.HTTPClient)
	}
	return c, nil
}

// socketURL is the WebSocket address for a connection with token (or none).
func (c Config) socketURL(token string) (string, error) {
	base := c.URL
	if base == "" {
		base = "ws://" + c.Host
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("realtime: parse URL: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("realtime: URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/app/" + url.PathEscape(c.Key)
	u.RawPath = ""
	q := url.Values{}
	q.Set("protocol", fmt.Sprint(protocolVersion))
	q.Set("client", clientName)
	if token != "" {
		q.Set("token", token)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
