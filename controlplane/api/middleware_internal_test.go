package api

import (
	"strings"
	"testing"
)

func TestRedactPath(t *testing.T) {
	t.Parallel()
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
	for _, tc := range []struct{ in, want string }{
		{"/apps/app-id/events", "/apps/app-id/events"},
		{"/admin/v1/tokens", "/admin/v1/tokens"},
		{"/admin/v1/tokens/tok_123", "/admin/v1/tokens/tok_123"},
		{"/token/" + jwt + "/app/key", "/token/[redacted]/app/key"},
		{"/ws/token/opaque-value/app/key", "/ws/token/[redacted]/app/key"},
		{"/apps/x/" + jwt, "/apps/x/[redacted]"},
	} {
		if got := redactPath(tc.in); got != tc.want {
			t.Errorf("redactPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	t.Parallel()
	a, b := newRequestID(), newRequestID()
	if !inboundRequestID.MatchString(a) || len(a) != 2*requestIDBytes || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("newRequestID() = %q; want %d lower-case hex digits", a, 2*requestIDBytes)
	}
	if a == b {
		t.Errorf("two request ids are both %q", a)
	}
}
