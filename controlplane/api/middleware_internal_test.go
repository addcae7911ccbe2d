package api

import "testing"

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
