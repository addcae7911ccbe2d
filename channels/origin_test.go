package channels_test

import (
	"errors"
	"net/netip"
	"net/url"
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
		// IPv4 hosts in dotted decimal, as browsers send them, and names
		// whose last label is not a number.
		"http://0.0.0.0", "http://255.255.255.255", "http://10.0.0.1:3000", "https://192.168.1.20:8443",
		"https://1.example", "https://app.123abc", "https://app.0xg", "https://v4.1a",
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
		// Numbers that browsers do not read as an IPv4 address make a URL
		// no page has.
		{"http://256.0.0.1", "no IPv4 address"},
		{"http://1.2.3.4.5", "no IPv4 address"},
		{"http://4294967296", "no IPv4 address"},
		{"http://1.2.65536", "no IPv4 address"},
		{"http://09.0.0.1", "no IPv4 address"},
		{"http://0x7g.0.0.1", "no IPv4 address"},
		{"http://1..2", "no IPv4 address"},
		{"http://app.123", "no IPv4 address"},
		{"http://app.0x", "no IPv4 address"},
		{"http://app.example.1.", "no IPv4 address"},
		{"http://127.1:80", "default of http"},
		{"http://127.1:x", `port "x"`},
	}
	for _, tt := range invalid {
		err := channels.ValidateOrigin(tt.origin)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ValidateOrigin(%q) = %v, want an error saying %q", tt.origin, err, tt.why)
		}
	}
}

// TestValidateOriginIPv4Forms: an IPv4 host in a form browsers rewrite
// (WHATWG URL host parsing) can never match the dotted-decimal origin they
// send; it is refused with the form to use, which is itself accepted.
func TestValidateOriginIPv4Forms(t *testing.T) {
	t.Parallel()
	tests := []struct{ origin, use string }{
		{"http://127.1", "http://127.0.0.1"},
		{"http://0x7f.0.0.1", "http://127.0.0.1"},
		{"http://0X7F.0.0.1", "http://127.0.0.1"},
		{"http://0x7F.0x0.0.0x1", "http://127.0.0.1"},
		{"http://2130706433", "http://127.0.0.1"},
		{"http://0x7f000001", "http://127.0.0.1"},
		{"http://017700000001", "http://127.0.0.1"},
		{"http://127.000.000.001", "http://127.0.0.1"},
		{"http://0177.0.0.1", "http://127.0.0.1"},
		{"http://127.0.0.1.", "http://127.0.0.1"},
		{"http://127.0.1", "http://127.0.0.1"},
		{"http://127.1:8080", "http://127.0.0.1:8080"},
		{"https://10.1:8443", "https://10.0.0.1:8443"},
		{"https://1.2.3", "https://1.2.0.3"},
		{"http://0", "http://0.0.0.0"},
		{"http://0x", "http://0.0.0.0"},
		{"http://00", "http://0.0.0.0"},
		{"http://4294967295", "http://255.255.255.255"},
		{"http://192.168.257", "http://192.168.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			err := channels.ValidateOrigin(tt.origin)
			if err == nil || !strings.HasSuffix(err.Error(), "use "+tt.use) {
				t.Fatalf("ValidateOrigin(%q) = %v, want an error ending %q", tt.origin, err, "use "+tt.use)
			}
			if err := channels.ValidateOrigin(tt.use); err != nil {
				t.Errorf("the advised %q is refused: %v", tt.use, err)
			}
		})
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
		{"short IPv4 form", &[]string{"http://127.0.0.1:3000", "http://127.1:3000"}, "settings.allowed_origins[1]"},
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

// digits are the decimal digits.
const digits = "0123456789"

// FuzzValidateOrigin: an accepted origin is one net/url reads as
// scheme://host[:port] and nothing else, and a host whose last label is a
// number is an IPv4 address in the dotted decimal browsers send.
func FuzzValidateOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example", "http://127.0.0.1:8080", "https://[::1]:8443",
		"http://127.1", "http://0x7f.0.0.1", "http://2130706433", "http://127.000.000.001", "http://1.2.3.4.5",
		"http://app.123", "http://0x", "https://app.example.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if channels.ValidateOrigin(origin) != nil {
			return
		}
		u, err := url.Parse(origin)
		if err != nil || u.Scheme+"://"+u.Host != origin || u.Path != "" || u.RawQuery != "" || u.User != nil {
			t.Fatalf("accepted %q, which net/url reads as %#v (%v)", origin, u, err)
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		last := host[strings.LastIndexByte(host, '.')+1:]
		hex, isHex := strings.CutPrefix(last, "0x")
		if (last == "" || strings.Trim(last, digits) != "") && (!isHex || strings.Trim(hex, digits+"abcdef") != "") {
			return // a name, such as v4.1a
		}
		if addr, err := netip.ParseAddr(u.Hostname()); err != nil || !addr.Is4() || addr.String() != u.Hostname() {
			t.Fatalf("accepted %q, whose host browsers read as an IPv4 address, not in dotted decimal", origin)
		}
	})
}
