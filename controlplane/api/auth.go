package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/ratelimit"
)

// ActorBootstrap is the audit actor of requests made with the bootstrap
// token; requests made with a stored token are recorded under its id.
const ActorBootstrap = "bootstrap"

// maxTokenLen bounds what is hashed or sent to the database; real tokens
// are far shorter.
const maxTokenLen = 512

// requireAdmin admits requests bearing the bootstrap token or a live
// stored admin token, and records who made them for the audit log. A
// wrong token counts against the client's address (AuthGuard); an
// address over the limit is answered 429 before its token is looked at.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			return unauthorized("missing bearer token: send Authorization: Bearer <admin token>")
		}
		client := a.guard.Client(c.Request())
		if err := a.throttled(c, client, authguard.KindAdmin); err != nil {
			return err
		}
		if len(token) > maxTokenLen {
			a.guard.Failed(client, authguard.KindAdmin)
			return unauthorized("invalid admin token")
		}
		if a.isBootstrap(token) {
			c.Set(ctxActor, ActorBootstrap)
			return next(c)
		}
		info, err := a.store.VerifyAdminToken(c.Request().Context(), token)
		if errors.Is(err, channels.ErrUnauthorized) {
			a.guard.Failed(client, authguard.KindAdmin)
			return unauthorized("invalid or revoked admin token")
		}
		if err != nil {
			return fmt.Errorf("verify admin token: %w", err)
		}
		c.Set(ctxActor, info.ID)
		return next(c)
	}
}

// throttled answers 429 with Retry-After when client failed to
// authenticate too often, and nil when its credentials may be checked.
func (a *API) throttled(c echo.Context, client authguard.Client, kind authguard.Kind) error {
	wait := a.guard.Throttled(client, kind)
	if wait == 0 {
		return nil
	}
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
	return &channels.Error{Code: channels.CodeRateLimited, Message: authguard.Message(wait)}
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
