package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// TestErrorMapping feeds every kind of error to the error handler and
// checks status, shape and what is shown.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		code    channels.Code
		field   string
		message string // "" skips the check
	}{
		{"bad request with field", channels.BadRequest("name", "name is bad"), 400, channels.CodeBadRequest, "name", "name is bad"},
		{"unauthorized", &channels.Error{Code: channels.CodeUnauthorized, Message: "no"}, 401, channels.CodeUnauthorized, "", "no"},
		{"forbidden", &channels.Error{Code: channels.CodeForbidden, Message: "not yours"}, 403, channels.CodeForbidden, "", "not yours"},
		{"not found", channels.NotFound("app x not found"), 404, channels.CodeNotFound, "", "app x not found"},
		{"conflict", channels.Conflict("taken"), 409, channels.CodeConflict, "", "taken"},
		{"too large", errTooLarge(10), 413, channels.CodeTooLarge, "", ""},
		{"rate limited", &channels.Error{Code: channels.CodeRateLimited}, 429, channels.CodeRateLimited, "", "rate limited"},
		{"unavailable", &channels.Error{Code: channels.CodeUnavailable, Message: "db down"}, 503, channels.CodeUnavailable, "", "db down"},
		{"wrapped domain error", fmt.Errorf("get: %w", channels.NotFound("gone")), 404, channels.CodeNotFound, "", "gone"},
		{"plain error", errors.New("pq: secret detail"), 500, channels.CodeInternal, "", msgInternal},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 503, channels.CodeUnavailable, "", msgUnavailable},
		{"unreachable dependency", fmt.Errorf("connect: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}),
			503, channels.CodeUnavailable, "", msgUnavailable},
		{"echo 404", echo.ErrNotFound, 404, channels.CodeNotFound, "", ""},
		{"echo 405", echo.ErrMethodNotAllowed, 405, codeMethodNotAllowed, "", ""},
		{"echo 418", echo.NewHTTPError(http.StatusTeapot, "tea"), 500, channels.CodeInternal, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			a := newTestAPI(t)
			a.logger = slog.New(slog.NewTextHandler(&logs, nil))
			rec := httptest.NewRecorder()
			c := a.echo.NewContext(httptest.NewRequest(http.MethodGet, "/x", nil), rec)
			c.Set(ctxRequestID, "rid-1")
			a.handleError(tt.err, c)

			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if body.Error.Code != tt.code || body.Error.Field != tt.field || body.Error.Message == "" {
				t.Errorf("body = %s", rec.Body)
			}
			if tt.message != "" && body.Error.Message != tt.message {
				t.Errorf("message = %q, want %q", body.Error.Message, tt.message)
			}
			if tt.code == channels.CodeInternal && !errors.As(tt.err, new(*echo.HTTPError)) {
				if strings.Contains(rec.Body.String(), "secret detail") {
					t.Errorf("internal cause shown: %s", rec.Body)
				}
				if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "rid-1") {
					t.Errorf("internal error not logged with its request id: %s", logs.String())
				}
			}
			if wantAuth := tt.status == 401; (rec.Header().Get("WWW-Authenticate") == "Bearer") != wantAuth {
				t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}
