package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// codeMethodNotAllowed answers a known path with an unsupported method.
const codeMethodNotAllowed = channels.CodeMethodNotAllowed

// Messages of the errors whose cause is not shown.
const (
	msgInternal    = "internal error"
	msgUnavailable = "service temporarily unavailable; try again"
)

// errorBody is the one error shape of every answer, shared with the
// gateway's endpoints.
type errorBody = channels.ErrorBody

// errorDetail is the inside of errorBody.
type errorDetail = channels.ErrorDetail

// handleError is echo's HTTPErrorHandler: it writes every error in the one
// shape, with the status from channels.DispositionOf. Errors that are not
// *channels.Error are logged with the request id and shown only as
// "internal error".
func (a *API) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		a.logger.Debug("error after the answer was sent", "request_id", requestIDOf(c), "err", err)
		return
	}
	status, body := a.describe(err, c)
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
	}
	// A HEAD gets the headers of the GET's answer too; net/http drops
	// the body.
	if werr := c.JSON(status, body); werr != nil {
		a.logger.Debug("write error answer", "request_id", requestIDOf(c), "err", werr)
	}
}

// describe maps err to a status and a body, logging what is not shown.
func (a *API) describe(err error, c echo.Context) (int, errorBody) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return describeHTTPError(he)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// A slow database or a client that went away: nothing the caller
		// did wrong, and retrying may work. Only the first is news.
		level := slog.LevelWarn
		if errors.Is(err, context.Canceled) {
			level = slog.LevelDebug
		}
		a.logger.LogAttrs(c.Request().Context(), level, "request did not complete",
			slog.String("request_id", requestIDOf(c)), slog.String("err", err.Error()))
		return http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: channels.CodeUnavailable, Message: msgUnavailable}}
	}
	if opErr := (*net.OpError)(nil); errors.As(err, &opErr) {
		// A dependency (Postgres) is out of reach: an outage, which the
		// caller may retry, not a bug.
		a.logger.LogAttrs(c.Request().Context(), slog.LevelError, "dependency unreachable",
			slog.String("request_id", requestIDOf(c)),
			slog.String("route", c.Path()),
			slog.String("err", err.Error()))
		return http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: channels.CodeUnavailable, Message: msgUnavailable}}
	}
	code, disp := channels.DispositionOf(err)
	if code == channels.CodeInternal {
		a.logger.LogAttrs(c.Request().Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.String("err", err.Error()))
		return disp.HTTPStatus, errorBody{Error: errorDetail{Code: code, Message: msgInternal}}
	}
	var ce *channels.Error
	errors.As(err, &ce) // DispositionOf found one
	msg := ce.Message
	if msg == "" {
		msg = strings.ReplaceAll(string(ce.Code), "_", " ")
	}
	return disp.HTTPStatus, errorBody{Error: errorDetail{Code: code, Message: msg, Field: ce.Field}}
}

// describeHTTPError maps echo's own errors (unknown route, wrong method)
// onto the vocabulary.
func describeHTTPError(he *echo.HTTPError) (int, errorBody) {
	status := he.Code
	code := channels.CodeOfStatus(status)
	if code == channels.CodeInternal {
		status = http.StatusInternalServerError
	}
	msg := strings.ToLower(http.StatusText(status))
	if status == http.StatusNotFound {
		msg = "no such route"
	}
	return status, errorBody{Error: errorDetail{Code: code, Message: msg}}
}
