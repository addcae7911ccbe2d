package clientip_test

import (
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/clientip"
)

func TestIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted []string
		remote  string
		xff     []string
		want    string
		wantOK  bool
	}{
		{"no proxy trusted: peer", nil, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9", true},
		{"untrusted peer: header ignored", []string{"10.0.0.0/8"}, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9", true},
		{"trusted peer: last hop", []string{"10.0.0.0/8"}, "10.1.2.3:5000", []string{"1.2.3.4"}, "1.2.3.4", true},
		{"spoofed left part ignored", []string{"10.0.0.0/8"}, "10.1.2.3:5000", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4", true},
		{"chain of trusted proxies", []string{"10.0.0.0/8", "192.0.2.1"}, "10.1.2.3:5000", []string{"1.2.3.4, 192.0.2.1", "10.9.9.9"}, "1.2.3.4", true},
		{"all hops trusted: leftmost", []string{"10.0.0.0/8"}, "10.1.2.3:5000", []string{"10.0.0.7"}, "10.0.0.7", true},
		{"garbage hop: the last good address", []string{"10.0.0.0/8"}, "10.1.2.3:5000", []string{"1.2.3.4, nonsense"}, "10.1.2.3", true},
		{"trusted peer without header", []string{"10.0.0.0/8"}, "10.1.2.3:5000", nil, "10.1.2.3", true},
		{"ipv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1", true},
		{"mapped ipv4", []string{"127.0.0.1"}, "[::ffff:127.0.0.1]:1", []string{"::ffff:1.2.3.4"}, "1.2.3.4", true},
		{"unparsable peer", nil, "pipe", nil, "invalid IP", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := clientip.New(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			got, ok := r.IP(req)
			if got.String() != tc.want || ok != tc.wantOK {
				t.Fatalf("IP = %s, %v; want %s, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNewRejectsGarbage(t *testing.T) {
	t.Parallel()
	if _, err := clientip.New([]string{"10.0.0.0/8", "not-a-network"}); err == nil {
		t.Fatal("accepted a malformed trusted proxy")
	}
}
