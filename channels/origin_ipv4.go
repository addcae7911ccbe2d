package channels

import (
	"math"
	"net/netip"
	"strings"
)

// Browsers parse URLs by the WHATWG URL Standard (section 3.5, "Host
// parsing"): a host whose last label is a number is an IPv4 address,
// written in any of the forms inet_aton accepts (127.1, 0x7f.0.0.1,
// 2130706433, 0177.0.0.1), and the origin a browser sends carries it in
// dotted decimal. A host that ends in a number but is no IPv4 address
// makes the URL invalid: no page has it.

// ipv4Parts is the most dot-separated numbers an IPv4 host has.
const ipv4Parts = 4

// ipv4NumberLimit is above every value an IPv4 number may take (a whole
// address, 2^32 - 1); parsing saturates there, which is already a failure.
const ipv4NumberLimit = math.MaxUint32 + 1

// whatwgIPv4 reads host, in lower case, as a browser does. numeric says
// that its last label is a number, so that a browser reads it as an IPv4
// address; addr is that address, invalid when the host is no address (a
// URL browsers refuse).
func whatwgIPv4(host string) (addr netip.Addr, numeric bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1] // one trailing dot is dropped
	}
	last := parts[len(parts)-1]
	if _, ok := ipv4Number(last); !ok && !allDigits(last) {
		return netip.Addr{}, false
	}
	if len(parts) > ipv4Parts {
		return netip.Addr{}, true
	}
	var v uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return netip.Addr{}, true
		}
		if i < len(parts)-1 {
			// Every number but the last is one byte, placed from the top.
			if n > math.MaxUint8 {
				return netip.Addr{}, true
			}
			v |= n << (8 * (ipv4Parts - 1 - i))
			continue
		}
		// The last fills the bytes that are left.
		if n >= 1<<(8*(ipv4Parts-i)) {
			return netip.Addr{}, true
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// ipv4Number parses one label of an IPv4 host: decimal, octal after a
// leading 0, hexadecimal after 0x ("0x" alone is zero).
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[:2] == "0x":
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for _, c := range []byte(s) {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = min(n*base+d, ipv4NumberLimit)
	}
	return n, true
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
