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
