package channels_test

import (
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestSettingsAllowsOrigin(t *testing.T) {
	listed := []string{"https://app.example", "http://localhost:5173"}
	tests := []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"empty list allows any origin", nil, "https://evil.example", true},
		{"empty list allows no origin", []string{}, "", true},
		{"listed origin", listed, "https://app.example", true},
		{"second listed origin", listed, "http://localhost:5173", true},
		{"unlisted origin", listed, "https://evil.example", false},
		{"no origin when some are listed", listed, "", false},
		{"other port", listed, "http://localhost:5174", false},
		{"other scheme", listed, "http://app.example", false},
		{"case differs", listed, "https://APP.example", false},
		{"trailing slash", listed, "https://app.example/", false},
		{"suffix of a listed origin", listed, "https://app.example.evil", false},
		{"null origin", listed, "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := channels.Settings{AllowedOrigins: tt.allowed}
			if got := s.AllowsOrigin(tt.origin); got != tt.want {
				t.Errorf("AllowsOrigin(%q) with %q = %v, want %v", tt.origin, tt.allowed, got, tt.want)
			}
		})
	}
}

func TestCodeOfStatus(t *testing.T) {
	for status, want := range map[int]channels.Code{
		400: channels.CodeBadRequest, 401: channels.CodeUnauthorized, 403: channels.CodeForbidden,
		404: channels.CodeNotFound, 405: channels.CodeMethodNotAllowed, 409: channels.CodeConflict,
		413: channels.CodeTooLarge, 426: channels.CodeUpgradeRequired, 429: channels.CodeRateLimited,
		503: channels.CodeUnavailable, 418: channels.CodeInternal, 500: channels.CodeInternal,
	} {
		got := channels.CodeOfStatus(status)
		if got != want {
			t.Errorf("CodeOfStatus(%d) = %s, want %s", status, got, want)
		}
		// The code maps back to the status, so an answer is consistent
		// whichever it started from.
		if _, d := channels.DispositionOf(&channels.Error{Code: got}); got != channels.CodeInternal && d.HTTPStatus != status {
			t.Errorf("DispositionOf(%s) = %d, want %d", got, d.HTTPStatus, status)
		}
	}
}
