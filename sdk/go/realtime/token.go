package realtime

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// tokenReuseMargin: a cached token this close to its exp is replaced
// before connecting.
const tokenReuseMargin = 30 * time.Second

// claims are the token fields the client reads (unverified: the server
// verifies).
type claims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
}

func decodeClaims(token string) (claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, false
	}
	var cl claims
	if json.Unmarshal(b, &cl) != nil {
		return claims{}, false
	}
	return cl, true
}

// tokenForConnect returns the token to connect with ("" without a
// provider), asking for a new one when there is none or it is near exp.
func (c *Client) tokenForConnect(ctx context.Context) (string, error) {
	if c.cfg.TokenProvider == nil {
		return "", nil
	}
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if cl, ok := decodeClaims(tok); ok && (cl.Exp == 0 || time.Until(time.Unix(cl.Exp, 0)) > tokenReuseMargin) {
		return tok, nil
	}
	tctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	tok, err := c.cfg.TokenProvider(tctx)
	if err != nil {
		return "", fmt.Errorf("realtime: token provider: %w", err)
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return tok, nil
}

// refreshToken answers token_expiring with herald:refresh; when it fails
// the server closes with 4009 at exp and the reconnection asks again.
func (c *Client) refreshToken(l *link) {
	if c.cfg.TokenProvider == nil {
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, c.cfg.ConnectTimeout)
	defer cancel()
	tok, err := c.cfg.TokenProvider(ctx)
	if err != nil {
		c.cfg.Logger.Warn("realtime: token refresh failed", "err", err)
		return
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	if err := c.send(l, evRefresh, "", map[string]string{"token": tok}); err != nil {
		c.cfg.Logger.Warn("realtime: token refresh not sent", "err", err)
	}
}

// tokenSub is the current token's user, "" without one.
func (c *Client) tokenSub() (string, bool) {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if tok == "" {
		return "", false
	}
	cl, _ := decodeClaims(tok)
	return cl.Sub, true
}
