package channels

import (
	"errors"
	"net/http"
)

// Code is a stable, snake_case error identifier shown to API callers and
// the one thing callers branch on.
type Code string

// The error vocabulary shared by every Herald API.
const (
	CodeBadRequest   Code = "bad_request"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeTooLarge     Code = "payload_too_large"
	CodeRateLimited  Code = "rate_limited"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
	CodeAppNotFound  Code = "app_not_found"
	CodeAppDisabled  Code = "app_disabled"
	CodeOverQuota    Code = "over_quota"
	// CodeQuotaExceeded refuses a publish over the account's message
	// quota or the app's publish_rate (hard enforcement): 429 rather than
	// Pusher's 403, because Retry-After tells the caller when to retry.
	// over_quota stays for connection limits.
	CodeQuotaExceeded   Code = "quota_exceeded"
	CodeUnsupportedProt Code = "unsupported_protocol"
	// CodeMethodNotAllowed answers a known HTTP path with a method it
	// does not serve; it never reaches a WebSocket.
	CodeMethodNotAllowed Code = "method_not_allowed"
	// CodeUpgradeRequired answers a plain HTTP request on the WebSocket
	// endpoint.
	CodeUpgradeRequired Code = "upgrade_required"
)

// Error is the one error type every layer returns for failures a caller
// should see. Anything else is reported as CodeInternal and logged, never
// shown.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input for CodeBadRequest, if any.
	Field string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}

// Is reports whether target is an *Error with the same Code, so that the
// sentinels below work with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// ErrorBody is the one error shape of every Herald HTTP answer, the
// control plane's APIs and the gateway's endpoints alike:
// {"error":{"code":"…","message":"…","field":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Field names the offending input, when one is at fault.
	Field string `json:"field,omitempty"`
}

// Sentinels for errors.Is; they match any *Error with the same code.
var (
	ErrBadRequest   = &Error{Code: CodeBadRequest}
	ErrUnauthorized = &Error{Code: CodeUnauthorized}
	ErrForbidden    = &Error{Code: CodeForbidden}
	ErrNotFound     = &Error{Code: CodeNotFound}
	ErrConflict     = &Error{Code: CodeConflict}
	ErrTooLarge     = &Error{Code: CodeTooLarge}
	ErrRateLimited  = &Error{Code: CodeRateLimited}
	ErrUnavailable  = &Error{Code: CodeUnavailable}
)

// Errorf-style constructors keep call sites short.

// BadRequest returns a CodeBadRequest error naming field.
func BadRequest(field, message string) *Error {
	return &Error{Code: CodeBadRequest, Field: field, Message: message}
}

// NotFound returns a CodeNotFound error.
func NotFound(message string) *Error { return &Error{Code: CodeNotFound, Message: message} }

// Conflict returns a CodeConflict error.
func Conflict(message string) *Error { return &Error{Code: CodeConflict, Message: message} }

// Disposition says how one error code surfaces on each transport.
type Disposition struct {
	// HTTPStatus is the status of an HTTP API answer.
	HTTPStatus int
	// PusherCode is the pusher:error code and, when Close is set, the
	// WebSocket close code (wirecodes.go: the ranges drive client retries).
	PusherCode WireCode
	// Close says whether the WebSocket is closed after the error.
	Close bool
}

var dispositions = map[Code]Disposition{
	CodeBadRequest:       {http.StatusBadRequest, PusherGeneric, false},
	CodeUnauthorized:     {http.StatusUnauthorized, PusherUnauthorized, true},
	CodeForbidden:        {http.StatusForbidden, PusherUnauthorized, true},
	CodeNotFound:         {http.StatusNotFound, PusherPathNotFound, true},
	CodeConflict:         {http.StatusConflict, PusherGeneric, false},
	CodeTooLarge:         {http.StatusRequestEntityTooLarge, PusherGeneric, false},
	CodeRateLimited:      {http.StatusTooManyRequests, PusherClientEventLimit, false},
	CodeUnavailable:      {http.StatusServiceUnavailable, PusherOverCapacity, true},
	CodeInternal:         {http.StatusInternalServerError, PusherGeneric, true},
	CodeAppNotFound:      {http.StatusNotFound, PusherAppNotFound, true},
	CodeAppDisabled:      {http.StatusForbidden, PusherAppDisabled, true},
	CodeOverQuota:        {http.StatusForbidden, PusherOverQuota, true},
	CodeQuotaExceeded:    {http.StatusTooManyRequests, PusherClientEventLimit, false},
	CodeUnsupportedProt:  {http.StatusBadRequest, PusherUnsupportedProtocol, true},
	CodeMethodNotAllowed: {http.StatusMethodNotAllowed, PusherGeneric, false},
	CodeUpgradeRequired:  {http.StatusUpgradeRequired, PusherGeneric, false},
}

// DispositionOf maps any error to how it surfaces. Errors that are not
// *Error map to CodeInternal; the caller must log them, not show them.
func DispositionOf(err error) (Code, Disposition) {
	var e *Error
	if errors.As(err, &e) {
		if d, ok := dispositions[e.Code]; ok {
			return e.Code, d
		}
	}
	return CodeInternal, dispositions[CodeInternal]
}

// CodeOfStatus returns the generic code of an HTTP status, for answers
// that start from a status rather than an *Error (a router's 404 or 405,
// a refused WebSocket handshake). A status with no code of its own is
// CodeInternal.
func CodeOfStatus(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusConflict:
		return CodeConflict
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusUpgradeRequired:
		return CodeUpgradeRequired
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	return CodeInternal
}
