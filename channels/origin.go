package channels

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// AllowsOrigin reports whether a browser page served from origin (the
// request's Origin header, compared byte for byte) may connect to the app
// or read its data: any origin when AllowedOrigins is empty, else one of
// them. The WebSocket handshake and CORS both decide with it, so an origin
// is allowed on every client transport or on none.
func (s Settings) AllowsOrigin(origin string) bool {
	return len(s.AllowedOrigins) == 0 || slices.Contains(s.AllowedOrigins, origin)
}

// Default ports, which a browser leaves out of the origin it sends.
const (
	defaultHTTPPort  = 80
	defaultHTTPSPort = 443
	maxPort          = 65535
)

// originExtras names what a character brings to a URL that an origin does
// not have.
var originExtras = map[byte]string{'/': "a path", '\\': "a path", '?': "a query", '#': "a fragment", '@': "user information"}

// ValidateOrigin reports why origin can never equal an Origin header a
// browser sends, so that AllowsOrigin would never match it: it must be a
// serialized origin (RFC 6454, section 6.2) of a page an app serves,
// "http" or "https", "://", a host as browsers write it (lower case,
// ASCII: punycode for an international name; an IPv4 address in dotted
// decimal, origin_ipv4.go; an IPv6 address in brackets, compressed) and a
// port only when not the scheme's default. There is no
// wildcard: an empty allowed_origins is how an app allows any origin.
func ValidateOrigin(origin string) error {
	scheme, rest, ok := strings.Cut(origin, "://")
	switch {
	case origin == "*":
		return errors.New(`is not an origin: list each origin, or none to allow any`)
	case !ok:
		return errors.New(`must be scheme://host[:port], as https://app.example`)
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("has scheme %q: want http or https, in lower case", scheme)
	case strings.HasSuffix(rest, "/"):
		return errors.New("must not end with /: an origin has no path")
	}
	if i := strings.IndexAny(rest, "/?#@\\"); i >= 0 {
		return fmt.Errorf("must not have %s: an origin is scheme://host[:port]", originExtras[rest[i]])
	}
	host, port := splitHostPort(rest)
	addr, numeric := whatwgIPv4(strings.ToLower(host))
	if !numeric {
		if err := validateOriginHost(host); err != nil {
			return err
		}
		return validateOriginPort(scheme, port)
	}
	if !addr.IsValid() {
		return fmt.Errorf("has host %q, which ends in a number but is no IPv4 address: browsers refuse such a URL", host)
	}
	if err := validateOriginPort(scheme, port); err != nil {
		return err
	}
	if want := addr.String(); host != want {
		canonical := scheme + "://" + want
		if port != nil {
			canonical += ":" + *port
		}
		return fmt.Errorf("has IPv4 host %q, which browsers send as %s: use %s", host, want, canonical)
	}
	return nil
}

// validateOriginPort checks the port of an origin; nil means none.
func validateOriginPort(scheme string, port *string) error {
	if port == nil {
		return nil
	}
	n, err := strconv.Atoi(*port)
	if err != nil || n < 1 || n > maxPort || strconv.Itoa(n) != *port {
		return fmt.Errorf("has port %q: want 1 to %d, without leading zeros", *port, maxPort)
	}
	if (scheme == "http" && n == defaultHTTPPort) || (scheme == "https" && n == defaultHTTPSPort) {
		return fmt.Errorf("must leave out port %d, the default of %s, as browsers do", n, scheme)
	}
	return nil
}

// splitHostPort cuts host[:port]; port is nil without a colon.
func splitHostPort(s string) (host string, port *string) {
	end := 0
	if strings.HasPrefix(s, "[") {
		end = strings.IndexByte(s, ']') + 1 // 0 when unclosed: host checks it
	}
	i := strings.LastIndexByte(s, ':')
	if i < end {
		return s, nil
	}
	p := s[i+1:]
	return s[:i], &p
}

// validateOriginHost checks the host of an origin.
func validateOriginHost(host string) error {
	if host == "" {
		return errors.New("has no host")
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, closed := strings.CutSuffix(inner, "]")
		addr, err := netip.ParseAddr(inner)
		if !closed || err != nil || !addr.Is6() || addr.Zone() != "" || addr.String() != inner {
			return errors.New("has an IPv6 host that is not as browsers write it: compressed, lower case, in brackets")
		}
		return nil
	}
	for _, c := range []byte(host) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		case c >= 'A' && c <= 'Z':
			return errors.New("must have its host in lower case, as browsers send it")
		case c >= 0x80:
			return errors.New("must have an ASCII host: write an international name in punycode (xn--)")
		default:
			return fmt.Errorf("has %q in its host", c)
		}
	}
	return nil
}
