package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// Keys of values the middlewares leave in the echo context.
const (
	ctxRequestID = "herald.request_id"
	ctxActor     = "herald.actor"
)

// requestIDBytes is the entropy of a generated request id.
const requestIDBytes = 8

// inboundRequestID is what an X-Request-Id set by a proxy must look like
// to be kept; anything else is replaced, so logs never carry arbitrary
// client bytes.
var inboundRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID gives every request an id, echoed in X-Request-Id and in the
// log lines about it.
func (a *API) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !inboundRequestID.MatchString(id) {
			b := make([]byte, requestIDBytes)
			_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// logRequests writes one debug line per request. It writes the error
// answer itself (c.Error) so that the logged status is the one sent. It
// logs neither bodies nor headers: they may carry secrets.
func (a *API) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		ctx := c.Request().Context()
		if a.logger.Enabled(ctx, slog.LevelDebug) {
			a.logger.LogAttrs(ctx, slog.LevelDebug, "http request",
				slog.String("method", c.Request().Method),
				slog.String("path", redactPath(c.Request().URL.Path)),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", requestIDOf(c)))
		}
		return nil
	}
}

// recoverPanics turns a handler panic into a 500 so that one bad request
// does not take the process down. http.ErrAbortHandler keeps its meaning.
func (a *API) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.logger.Error("handler panic", "request_id", requestIDOf(c), "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			err = fmt.Errorf("panic in handler: %v", r)
		}()
		return next(c)
	}
}

// limitBody caps the request body at MaxBodyBytes. A declared length over
// the cap is refused at once; an undeclared one fails while decoding.
func (a *API) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > a.maxBody {
			return errTooLarge(a.maxBody)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, a.maxBody)
		return next(c)
	}
}

func errTooLarge(limit int64) error {
	return &channels.Error{Code: channels.CodeTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// redactedSegment replaces credentials in logged paths.
const redactedSegment = "[redacted]"

// redactPath hides credentials that clients put in URL paths before the
// path is logged: the segment after "token" (the WebSocket token form
// /token/{jwt}/app/{key}, which reaches the API on a control-plane-only
// process) and anything shaped like a JWT. The query string is never
// logged at all: it carries auth_signature and ?token=.
func redactPath(p string) string {
	if !strings.Contains(p, "token") && !strings.Contains(p, "eyJ") {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if (i > 0 && segs[i-1] == "token" && s != "") || (strings.HasPrefix(s, "eyJ") && strings.Contains(s, ".")) {
			segs[i] = redactedSegment
		}
	}
	return strings.Join(segs, "/")
}
