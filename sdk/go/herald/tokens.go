package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Operation is what a token's capability allows on the channels its
// pattern matches (docs/protocol.md, "Tokens and capabilities").
type Operation string

// The operations a capability grants.
const (
	// OpSubscribe: joining private and private-encrypted channels.
	OpSubscribe Operation = "subscribe"
	// OpPublish: client events and herald:publish.
	OpPublish Operation = "publish"
	// OpPresence: joining a presence channel as the token's user (implies
	// subscribe).
	OpPresence Operation = "presence"
	// OpHistory: reading the channel's history with the token.
	OpHistory Operation = "history"
)

// Capabilities map channel-name patterns, where '*' matches any run of
// characters, to the operations they allow.
type Capabilities map[string][]Operation

// Token lifetimes.
const (
	// DefaultTokenTTL is a token's lifetime when TokenRequest.TTL is 0.
	DefaultTokenTTL = time.Hour
	// MaxTokenTTL is the longest lifetime the server accepts.
	MaxTokenTTL = 24 * time.Hour
)

// TokenRequest describes a token for a realtime client.
type TokenRequest struct {
	// UserID is the token's user (sub): the presence member and the
	// #server-to-user- channel it may join. Optional.
	UserID string
	// UserInfo is the presence member's info (JSON-encoded). Optional.
	UserInfo any
	// Capabilities are what the token allows; required.
	Capabilities Capabilities
	// TTL is the token's lifetime, at most MaxTokenTTL; 0:
	// DefaultTokenTTL.
	TTL time.Duration
}

// Token is a token and when it expires.
type Token struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// tokenBody is the body of POST /apps/{id}/tokens.
type tokenBody struct {
	UserID       string       `json:"user_id,omitempty"`
	UserInfo     any          `json:"user_info,omitempty"`
	Capabilities Capabilities `json:"capabilities"`
	TTLSeconds   int64        `json:"ttl_s,omitempty"`
}

// IssueToken asks Herald for a token (POST /apps/{id}/tokens): signed by
// the control plane (EdDSA), verifiable with its public keys
// (/.well-known/jwks.json), and independent of the app key's secret.
// Issuing has no side effect, so it is retried.
func (c *Client) IssueToken(ctx context.Context, req TokenRequest) (*Token, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	body := tokenBody{UserID: req.UserID, UserInfo: req.UserInfo, Capabilities: req.Capabilities}
	if req.TTL > 0 {
		body.TTLSeconds = int64((req.TTL + time.Second - 1) / time.Second)
	}
	var t Token
	if err := c.do(ctx, request{method: http.MethodPost, segments: []string{"tokens"}, body: body, idempotent: true}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// tokenClaims are the claims the server verifies (channels.TokenClaims).
type tokenClaims struct {
	App          string          `json:"app"`
	UserInfo     json.RawMessage `json:"user_info,omitempty"`
	Capabilities Capabilities    `json:"capabilities,omitempty"`
	jwt.RegisteredClaims
}

// SignToken signs a token locally, with no call to Herald: HS256 over the
// client's app key secret, header kid = the key, claims app, sub, iat,
// exp, user_info and capabilities, as the gateways verify tenant tokens.
// Revoking the key invalidates its tokens.
func (c *Client) SignToken(req TokenRequest) (*Token, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	now := c.now().Truncate(time.Second)
	claims := tokenClaims{
		App: c.cfg.AppID, Capabilities: req.Capabilities,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   req.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if req.UserInfo != nil {
		info, err := json.Marshal(req.UserInfo)
		if err != nil {
			return nil, fmt.Errorf("herald: encode user info: %w", err)
		}
		claims.UserInfo = info
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = c.cfg.Key
	s, err := t.SignedString([]byte(c.cfg.Secret))
	if err != nil {
		return nil, fmt.Errorf("herald: sign token: %w", err)
	}
	return &Token{Token: s, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// Capability limits the server enforces (docs/protocol.md, "Tokens and
// capabilities"), so that a token cannot make matching costly.
const (
	MaxCapabilityPatterns = 100
	MaxPatternLen         = 200
)

// check refuses locally what the server refuses (IssueToken's 400, a
// SignToken'd token's close at connect), as an error matching
// ErrBadRequest.
func (r TokenRequest) check() error {
	switch {
	case len(r.Capabilities) == 0:
		return fmt.Errorf("herald: a token needs capabilities: %w", ErrBadRequest)
	case r.TTL < 0 || r.TTL > MaxTokenTTL:
		return fmt.Errorf("herald: token TTL must be at most %s: %w", MaxTokenTTL, ErrBadRequest)
	}
	return r.Capabilities.validate()
}

// validate checks capabilities as the server does.
func (c Capabilities) validate() error {
	if len(c) > MaxCapabilityPatterns {
		return fmt.Errorf("herald: capabilities: at most %d patterns: %w", MaxCapabilityPatterns, ErrBadRequest)
	}
	for p, ops := range c {
		if p == "" || len(p) > MaxPatternLen {
			return fmt.Errorf("herald: capabilities: patterns must be 1 to %d characters: %w", MaxPatternLen, ErrBadRequest)
		}
		if strings.IndexFunc(p, func(r rune) bool { return !patternChar(r) }) >= 0 {
			return fmt.Errorf("herald: capabilities: pattern %q has an invalid character: %w", p, ErrBadRequest)
		}
		if len(ops) == 0 {
			return fmt.Errorf("herald: capabilities: pattern %q grants no operation: %w", p, ErrBadRequest)
		}
		for _, op := range ops {
			switch op {
			case OpSubscribe, OpPublish, OpPresence, OpHistory:
			default:
				return fmt.Errorf("herald: capabilities: unknown operation %q: %w", op, ErrBadRequest)
			}
		}
	}
	return nil
}

// patternChar reports a character a capability pattern may hold: those
// of channel names, '*' (any run of characters) and '#' (user channels).
func patternChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_=@,.;*#", r)
}
