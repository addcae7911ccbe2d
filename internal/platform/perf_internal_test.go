package platform

import (
	"errors"
	"testing"
)

func TestPprofAddrMustBeLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true}, // off
		{"127.0.0.1:6060", true},
		{"127.0.0.1:0", true},
		{"127.1.2.3:6060", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"[::]:6060", false},
		{"10.0.0.1:6060", false},
		{"example.com:6060", false},
		{"127.0.0.1", false},
	} {
		err := (&PerfConfig{PprofAddr: tc.addr}).validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPprofNotLoopback)) {
			t.Errorf("%q: %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}
