package clientip_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/clientip"
)

// FuzzIP resolves a client address from any peer address and
// X-Forwarded-For header (the header is the client's to write) behind
// trusted proxies: never a panic, and the address is the peer's or one
// written in the header, never one made up. The seed corpus in
// testdata/fuzz/FuzzIP holds chains, garbage and mapped addresses.
func FuzzIP(f *testing.F) {
	f.Add("10.1.2.3:5000", "6.6.6.6, 1.2.3.4")
	r, err := clientip.New([]string{"10.0.0.0/8", "192.0.2.1", "::1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		req := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got, ok := r.IP(req)
		if !ok {
			return
		}
		seen := map[netip.Addr]bool{}
		peer, _, err := net.SplitHostPort(remote)
		if err != nil {
			peer = remote
		}
		if a, err := netip.ParseAddr(peer); err == nil {
			seen[a.Unmap()] = true
		}
		for _, s := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
				seen[a.Unmap()] = true
			}
		}
		if !seen[got] {
			t.Fatalf("IP(%q, X-Forwarded-For %q) = %v: neither the peer nor a hop", remote, xff, got)
		}
	})
}
