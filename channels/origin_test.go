package channels_test

import (
	"errors"
	"strings"
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

func TestValidateOrigin(t *testing.T) {
	t.Parallel()
	valid := []string{
		"https://app.example", "http://localhost:5173", "http://127.0.0.1:8080", "https://[::1]:8443",
		"http://[2001:db8::1]", "https://xn--bcher-kva.example", "https://a-b_c.example", "https://app.example:444",
		"http://app.example:443", "https://app.example:80", "https://app.example.",
	}
	for _, o := range valid {
		if err := channels.ValidateOrigin(o); err != nil {
			t.Errorf("ValidateOrigin(%q) = %v, want nil", o, err)
		}
	}
	invalid := []struct{ origin, why string }{
		{"https://app.example/", "must not end with /"},
		{"*", "not an origin"},
		{"bad origin", "scheme://host"},
		{"", "scheme://host"},
		{"null", "scheme://host"},
		{"app.example", "scheme://host"},
		{"//app.example", "scheme"},
		{"ftp://app.example", `scheme "ftp"`},
		{"HTTPS://app.example", `scheme "HTTPS"`},
		{"ws://app.example", `scheme "ws"`},
		{"https://", "no host"},
		{"https://:8080", "no host"},
		{"https://app.example/path", "a path"},
		{"https://app.example\\x", "a path"},
		{"https://app.example?q=1", "a query"},
		{"https://app.example#top", "a fragment"},
		{"https://user@app.example", "user information"},
		{"https://user:pw@app.example", "user information"},
		{"https://APP.example", "lower case"},
		{"https://bücher.example", "punycode"},
		{"https://app example", `' '`},
		{"https://app.example:", `port ""`},
		{"https://app.example:0", `port "0"`},
		{"https://app.example:65536", `port "65536"`},
		{"https://app.example:080", `port "080"`},
		{"https://app.example:x", `port "x"`},
		{"https://app.example:443", "default of https"},
		{"http://app.example:80", "default of http"},
		{"http://[::1", "IPv6"},
		{"http://[::0:1]", "IPv6"},
		{"http://[::FFFF]", "IPv6"},
		{"http://[fe80::1%eth0]", "IPv6"},
		{"http://[127.0.0.1]", "IPv6"},
		{"http://::1", `':'`},
	}
	for _, tt := range invalid {
		err := channels.ValidateOrigin(tt.origin)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ValidateOrigin(%q) = %v, want an error saying %q", tt.origin, err, tt.why)
		}
	}
}

// TestValidOriginsMatch: an origin ValidateOrigin accepts is one that
// AllowsOrigin matches when a browser sends it.
func TestValidOriginsMatch(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"https://app.example", "http://localhost:5173"} {
		s := channels.Settings{AllowedOrigins: []string{o}}
		if channels.ValidateOrigin(o) != nil || !s.AllowsOrigin(o) {
			t.Errorf("%q: valid and matching expected", o)
		}
	}
}

func TestSettingsPatchValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		origins *[]string
		field   string
	}{
		{"no origins in the patch", nil, ""},
		{"emptied", &[]string{}, ""},
		{"valid", &[]string{"https://app.example", "http://localhost:3000"}, ""},
		{"the prober's", &[]string{"https://app.example/", "*", "bad origin"}, "settings.allowed_origins[0]"},
		{"third bad", &[]string{"https://a.example", "https://b.example", "bad origin"}, "settings.allowed_origins[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := channels.SettingsPatch{AllowedOrigins: tt.origins}.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var e *channels.Error
			if !errors.As(err, &e) || e.Code != channels.CodeBadRequest || e.Field != tt.field ||
				!strings.HasPrefix(e.Message, tt.field+" ") {
				t.Fatalf("Validate = %#v, want a 400 naming %s", err, tt.field)
			}
		})
	}
}
