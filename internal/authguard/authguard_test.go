package authguard_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/authguard"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func request(remote string, xff ...string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func newGuard(t *testing.T, cfg authguard.Config) (*authguard.Guard, *clock, *prometheus.Registry) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := prometheus.NewRegistry()
	cfg.Now, cfg.Registerer = c.now, reg
	g, err := authguard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, c, reg
}

func TestThrottledAfterBurstUntilRefill(t *testing.T) {
	t.Parallel()
	g, c, reg := newGuard(t, authguard.Config{Rate: 2, Burst: 3})
	client := g.Client(request("203.0.113.9:4000"))
	for i := range 3 {
		if w := g.Throttled(client, authguard.KindREST); w != 0 {
			t.Fatalf("failure %d of the burst: throttled for %s", i+1, w)
		}
		g.Failed(client, authguard.KindREST)
	}
	if w := g.Throttled(client, authguard.KindAdmin); w != 500*time.Millisecond {
		t.Fatalf("after the burst: wait %s, want 500ms", w)
	}
	other := g.Client(request("203.0.113.10:4000"))
	if w := g.Throttled(other, authguard.KindREST); w != 0 {
		t.Fatal("another address shares the bucket")
	}
	// Checking does not spend: once a token is back, a success (which
	// never calls Failed) gets through however often it was refused.
	c.add(500 * time.Millisecond)
	for range 5 {
		if w := g.Throttled(client, authguard.KindREST); w != 0 {
			t.Fatalf("refilled token: still throttled for %s", w)
		}
	}
	g.Failed(client, authguard.KindToken)
	if g.Throttled(client, authguard.KindREST) == 0 {
		t.Fatal("a failure with the refilled token did not throttle again")
	}
	for kind, want := range map[authguard.Kind]float64{authguard.KindREST: 3, authguard.KindToken: 1, authguard.KindAdmin: 0} {
		if got := value(t, reg, "herald_auth_failures_total", kind); got != want {
			t.Errorf("failures{%s} = %v, want %v", kind, got, want)
		}
	}
	for kind, want := range map[authguard.Kind]float64{authguard.KindREST: 1, authguard.KindAdmin: 1, authguard.KindToken: 0} {
		if got := value(t, reg, "herald_auth_throttled_total", kind); got != want {
			t.Errorf("throttled{%s} = %v, want %v", kind, got, want)
		}
	}
}

// value reads one series of a registered counter vector.
func value(t *testing.T, reg *prometheus.Registry, name string, kind authguard.Kind) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == string(kind) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{kind=%q}", name, kind)
	return 0
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		cfg        authguard.Config
		req        *http.Request
		wantExempt bool
		sameAs     *http.Request
	}{
		{name: "loopback exempt", req: request("127.0.0.1:5000"), wantExempt: true},
		{name: "ipv6 loopback exempt", req: request("[::1]:5000"), wantExempt: true},
		{name: "loopback counted when asked", cfg: authguard.Config{Loopback: true}, req: request("127.0.0.1:5000")},
		{name: "unparsable peer exempt", req: request("pipe"), wantExempt: true},
		{name: "forwarded header of an untrusted peer ignored", req: request("203.0.113.9:1", "198.51.100.1"),
			sameAs: request("203.0.113.9:2")},
		{name: "trusted proxy names the client", cfg: authguard.Config{TrustedProxies: []string{"127.0.0.1"}},
			req: request("127.0.0.1:1", "198.51.100.1"), sameAs: request("198.51.100.1:9")},
		{name: "trusted loopback proxy without header is loopback", cfg: authguard.Config{TrustedProxies: []string{"127.0.0.1"}},
			req: request("127.0.0.1:1"), wantExempt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, _, _ := newGuard(t, tc.cfg)
			c := g.Client(tc.req)
			if c.Exempt() != tc.wantExempt {
				t.Fatalf("exempt = %v, want %v", c.Exempt(), tc.wantExempt)
			}
			if tc.sameAs != nil && g.Client(tc.sameAs) != c {
				t.Fatal("the request is not counted against the expected address")
			}
			if tc.wantExempt {
				for range authguard.DefaultBurst * 2 {
					g.Failed(c, authguard.KindAdmin)
				}
				if g.Throttled(c, authguard.KindAdmin) != 0 || g.Len() != 0 {
					t.Fatal("an exempt client was throttled or held")
				}
			}
		})
	}
}

func TestDefaultsAndDisabled(t *testing.T) {
	t.Parallel()
	g, _, _ := newGuard(t, authguard.Config{})
	c := g.Client(request("203.0.113.9:1"))
	for range authguard.DefaultBurst {
		g.Failed(c, authguard.KindChannelAuth)
	}
	if w := g.Throttled(c, authguard.KindChannelAuth); w != time.Second/authguard.DefaultRate {
		t.Fatalf("default burst spent: wait %s, want %s", w, time.Second/authguard.DefaultRate)
	}

	off, _, reg := newGuard(t, authguard.Config{Rate: -1})
	c = off.Client(request("203.0.113.9:1"))
	for range 1000 {
		off.Failed(c, authguard.KindREST)
	}
	if off.Throttled(c, authguard.KindREST) != 0 {
		t.Fatal("a negative rate throttles")
	}
	if got := value(t, reg, "herald_auth_failures_total", authguard.KindREST); got != 1000 {
		t.Fatalf("a disabled guard counted %v failures, want 1000", got)
	}

	var none *authguard.Guard
	none.Failed(none.Client(request("203.0.113.9:1")), authguard.KindREST)
	if none.Throttled(authguard.Client{}, authguard.KindREST) != 0 || none.Len() != 0 {
		t.Fatal("a nil guard throttles")
	}
	if _, err := authguard.New(authguard.Config{TrustedProxies: []string{"nonsense"}}); err == nil {
		t.Fatal("accepted a malformed trusted proxy")
	}
	if _, err := authguard.New(authguard.Config{Burst: -1}); err == nil {
		t.Fatal("accepted a negative burst")
	}
}

// TestMemoryBounded: an attacker spraying addresses holds at most MaxKeys
// buckets, whatever it sends.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	const maxKeys = 64
	g, _, _ := newGuard(t, authguard.Config{Rate: 1, Burst: 1, MaxKeys: maxKeys})
	for i := range 10_000 {
		g.Failed(g.Client(request(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))), authguard.KindREST)
	}
	if n := g.Len(); n > maxKeys {
		t.Fatalf("holds %d addresses, bound %d", n, maxKeys)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	if got, want := authguard.Message(1200*time.Millisecond), "too many failed authentications from this address; retry in 2 s"; got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
}
