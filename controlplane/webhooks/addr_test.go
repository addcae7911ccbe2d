package webhooks_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr    string
		refused bool
	}{
		{"93.184.215.14", false},
		{"8.8.8.8", false},
		{"2606:4700:4700::1111", false},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"169.254.1.1", true},
		{"fd00:ec2::254", true}, // AWS metadata over IPv6
		{"fc00::1", true},
		{"fe80::1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped loopback
		{"::ffff:169.254.169.254", true},
		{"0.0.0.0", true},
		{"::", true},
		{"100.64.0.1", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"255.255.255.255", true},
		{"64:ff9b::a00:1", true}, // NAT64 of 10.0.0.1
		{"172.32.0.1", false},
	}
	for _, c := range cases {
		err := webhooks.CheckAddr(netip.MustParseAddr(c.addr))
		if got := err != nil; got != c.refused {
			t.Errorf("%s: refused = %v (%v), want %v", c.addr, got, err, c.refused)
		}
		if err != nil && !errors.Is(err, webhooks.ErrAddressRefused) {
			t.Errorf("%s: %v is not ErrAddressRefused", c.addr, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://93.184.215.14/hook", false, true},
		{"http://8.8.8.8:8080/x?y=1", false, true},
		{"https://[2606:4700:4700::1111]/", false, true},
		{"https://127.0.0.1/hook", false, false},
		{"https://127.0.0.1/hook", true, true},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://[::1]:8080/", false, false},
		{"http://[fd00:ec2::254]/", false, false},
		{"http://localhost:8080/", false, false}, // resolves to loopback
		{"http://localhost:8080/", true, true},
		{"ftp://example.com/", true, false},
		{"javascript:alert(1)", true, false},
		{"https://user:pass@93.184.215.14/", false, false},
		{"https:///nohost", true, false},
		{"", true, false},
		{"not a url", true, false},
	}
	for _, c := range cases {
		err := webhooks.CheckURL(context.Background(), c.url, c.allowPrivate)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%q, private %v) = %v, want ok %v", c.url, c.allowPrivate, err, c.ok)
			continue
		}
		var de *channels.Error
		if err != nil && (!errors.As(err, &de) || de.Field != "url") {
			t.Errorf("CheckURL(%q) = %v, want a bad request on field url", c.url, err)
		}
	}
}
