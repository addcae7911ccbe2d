package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// ActorBootstrap is the audit actor of requests made with the bootstrap
// token; requests made with a stored token are recorded under its id.
const ActorBootstrap = "bootstrap"

// maxTokenLen bounds what is hashed or sent to the database; real tokens
// are far shorter.
const maxTokenLen = 512

// requireAdmin admits requests bearing the bootstrap token or a live
// stored admin token, and records who made them for the audit log.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		client := clientAddr(c.Request())
		if wait := a.limiter.retryAfter(client); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
			return &channels.Error{Code: channels.CodeRateLimited,
				Message: fmt.Sprintf("too many failed authentications; retry in %d s", secs)}
		}
		token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			return unauthorized("missing bearer token: send Authorization: Bearer <admin token>")
		}
		if len(token) > maxTokenLen {
			a.limiter.fail(client)
			return unauthorized("invalid admin token")
		}
		if a.isBootstrap(token) {
			c.Set(ctxActor, ActorBootstrap)
			return next(c)
		}
		info, err := a.store.VerifyAdminToken(c.Request().Context(), token)
		if errors.Is(err, channels.ErrUnauthorized) {
			a.limiter.fail(client)
			return unauthorized("invalid or revoked admin token")
		}
		if err != nil {
			return fmt.Errorf("verify admin token: %w", err)
		}
		c.Set(ctxActor, info.ID)
		return next(c)
	}
}

// isBootstrap compares hashes in constant time, so that neither the
// content nor the length of the bootstrap token leaks through timing.
func (a *API) isBootstrap(token string) bool {
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], a.bootstrap[:]) == 1 && a.hasBootstrap
}

func actorOf(c echo.Context) string {
	actor, _ := c.Get(ctxActor).(string)
	return actor
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthorized(msg string) error {
	return &channels.Error{Code: channels.CodeUnauthorized, Message: msg}
}

// clientAddr is the address failed authentications are counted against:
// the TCP peer, never a forwarded header a client could forge. Behind a
// proxy every client shares the proxy's address, which the generous
// default limit allows for.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
