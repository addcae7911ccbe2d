// Package clientip finds the address of the client behind a request:
// the connection's peer, or, when that peer is a trusted proxy, the last
// address in X-Forwarded-For that is not itself a trusted proxy.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses. The zero Resolver trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that honours X-Forwarded-For from the given
// networks only ("10.0.0.0/8", "192.0.2.1"; a bare address is a /32 or
// /128).
func New(trustedProxies []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q: not a CIDR or address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// IP returns the client address of req. ok is false when the peer address
// does not parse (a test transport): callers then skip per-address rules.
func (r *Resolver) IP(req *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := parseHostPort(req.RemoteAddr)
	if !ok || !r.isTrusted(peer) {
		return peer, ok
	}
	// Walk X-Forwarded-For from the right: each trusted proxy appended
	// the address it saw; the first untrusted one is the client. Anything
	// left of it was written by the client and proves nothing.
	hops := forwardedFor(req.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer, true
		}
		a = a.Unmap()
		if !r.isTrusted(a) {
			return a, true
		}
		peer = a
	}
	return peer, true
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	if r == nil {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}

func parseHostPort(s string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
