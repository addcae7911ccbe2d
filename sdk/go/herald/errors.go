package herald

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Herald's error codes (docs/protocol.md, "HTTP errors"): the code of an
// *Error.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
	CodeAppNotFound      = "app_not_found"
	CodeAppDisabled      = "app_disabled"
	CodeOverQuota        = "over_quota"
	CodeQuotaExceeded    = "quota_exceeded"
	CodeMethodNotAllowed = "method_not_allowed"
)

// Error is an error answer of Herald's API.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is Herald's error code (the Code constants); for an answer that
	// was not Herald's JSON error (a proxy's), a code matching the status.
	Code string
	// Message says what was wrong.
	Message string
	// Field names the input at fault, when one is.
	Field string
	// RetryAfter is the wait the server asked for (Retry-After), 0 when
	// it gave none.
	RetryAfter time.Duration
	// RequestID is the server's X-Request-Id, to quote when asking why.
	RequestID string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "herald: %d %s", e.Status, e.Code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Field != "" {
		b.WriteString(" (field " + e.Field + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Sentinels an *Error matches with errors.Is, by its code.
var (
	// ErrBadRequest: the request was refused as invalid (bad_request,
	// payload_too_large); Field says which input.
	ErrBadRequest = errors.New("herald: bad request")
	// ErrUnauthorized: the key, secret, signature or token was refused.
	ErrUnauthorized = errors.New("herald: unauthorized")
	// ErrForbidden: not allowed (forbidden), or the app is disabled.
	ErrForbidden = errors.New("herald: forbidden")
	// ErrNotFound: no such app, channel route or resource.
	ErrNotFound = errors.New("herald: not found")
	// ErrQuotaExceeded: over a limit of the account's plan
	// (quota_exceeded, over_quota): its daily or monthly messages, or an
	// app's publish_rate (messages per second); RetryAfter says when it
	// resets, a second for a rate. Plan limits are quotas, so a publish
	// over publish_rate matches this, not ErrRateLimited.
	ErrQuotaExceeded = errors.New("herald: quota exceeded")
	// ErrRateLimited: too many requests from this client's address
	// (rate_limited: the auth-failure throttle, or a proxy's 429);
	// RetryAfter says when to retry. A caller that only wants to know
	// whether to wait and retry reads RetryAfter, which both set.
	ErrRateLimited = errors.New("herald: rate limited")
	// ErrUnavailable: the server cannot answer now; retry later.
	ErrUnavailable = errors.New("herald: unavailable")
)

var sentinelCodes = map[error][]string{
	ErrBadRequest:    {CodeBadRequest, CodeTooLarge},
	ErrUnauthorized:  {CodeUnauthorized},
	ErrForbidden:     {CodeForbidden, CodeAppDisabled},
	ErrNotFound:      {CodeNotFound, CodeAppNotFound},
	ErrQuotaExceeded: {CodeQuotaExceeded, CodeOverQuota},
	ErrRateLimited:   {CodeRateLimited},
	ErrUnavailable:   {CodeUnavailable},
}

// Is reports whether target is a sentinel that e's code belongs to.
func (e *Error) Is(target error) bool {
	for _, c := range sentinelCodes[target] {
		if e.Code == c {
			return true
		}
	}
	return false
}

// statusCodes names the code of a non-JSON error answer by its status.
var statusCodes = map[int]string{
	http.StatusBadRequest:            CodeBadRequest,
	http.StatusUnauthorized:          CodeUnauthorized,
	http.StatusForbidden:             CodeForbidden,
	http.StatusNotFound:              CodeNotFound,
	http.StatusConflict:              CodeConflict,
	http.StatusRequestEntityTooLarge: CodeTooLarge,
	http.StatusTooManyRequests:       CodeRateLimited,
	http.StatusServiceUnavailable:    CodeUnavailable,
	http.StatusBadGateway:            CodeUnavailable,
	http.StatusGatewayTimeout:        CodeUnavailable,
}

// parseRetryAfter reads Retry-After: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
