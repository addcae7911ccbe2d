package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/heraldhq/herald/channels"
)

// ErrAddressRefused is returned for an endpoint address that is loopback,
// private, link-local, a cloud metadata address or otherwise not public,
// while private addresses are not allowed.
var ErrAddressRefused = errors.New("address refused")

// MaxURLLen caps an endpoint URL.
const MaxURLLen = 2048

// resolveTimeout bounds the name lookup of CheckURL.
const resolveTimeout = 5 * time.Second

// refusedPrefixes are the non-public ranges netip's predicates do not
// name: "this network", carrier-grade NAT, IETF protocol assignments,
// benchmarking, reserved and broadcast, and NAT64 (which can embed any
// IPv4 address).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// CheckAddr refuses an address a webhook must not reach: loopback,
// private (RFC 1918, fc00::/7, where fd00:ec2::254 lives), link-local
// (169.254.0.0/16 holds the cloud metadata address 169.254.169.254),
// multicast, unspecified and the ranges above. IPv4-mapped IPv6
// addresses are checked as IPv4.
func CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	var kind string
	switch {
	case !ip.IsValid():
		kind = "invalid"
	case ip.IsLoopback():
		kind = "loopback"
	case ip.IsPrivate():
		kind = "private"
	case ip.IsLinkLocalUnicast():
		kind = "link-local (cloud metadata)"
	case ip.IsUnspecified():
		kind = "unspecified"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		kind = "multicast"
	default:
		for _, p := range refusedPrefixes {
			if p.Contains(ip) {
				kind = "not public"
				break
			}
		}
	}
	if kind == "" {
		return nil
	}
	return fmt.Errorf("%w: %s is %s", ErrAddressRefused, ip, kind)
}

// CheckURL validates an endpoint URL at creation: http or https, a host,
// no credentials, and unless allowPrivate every address the host is or
// resolves to public. It answers a channels.BadRequest on field "url".
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	bad := func(msg string) error { return channels.BadRequest("url", msg) }
	if raw == "" {
		return bad("url is required")
	}
	if len(raw) > MaxURLLen {
		return bad(fmt.Sprintf("url is longer than %d bytes", MaxURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("url must be http or https")
	}
	if u.User != nil {
		return bad("url must not hold credentials: use headers")
	}
	host := u.Hostname()
	if host == "" {
		return bad("url has no host")
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := CheckAddr(ip); err != nil {
			return bad("url: " + err.Error() + " (allowed only with --webhook-allow-private)")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return bad("url: host " + host + " does not resolve")
	}
	for _, ip := range ips {
		if err := CheckAddr(ip); err != nil {
			return bad("url: " + host + " resolves to a refused address: " + err.Error() +
				" (allowed only with --webhook-allow-private)")
		}
	}
	return nil
}

// dialControl checks the address a connection is about to reach, after
// name resolution, so that a name that resolved to a public address at
// creation and to a private one now (DNS rebinding) is refused.
func dialControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressRefused, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressRefused, address)
	}
	return CheckAddr(ip)
}
