package e2e_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// A stopping gateway answers /readyz 503 from the moment its shutdown
// starts, while it still drains its connections, so that a load balancer
// stops sending it new clients; a new WebSocket or SSE request meanwhile
// is refused with 503 rather than with a dead port.
func TestReadyzFailsWhileGatewayDrains(t *testing.T) {
	const clients = 4
	h := testenv.Herald(t, func(c *platform.Config) {
		// Long enough that the last client is still open when /readyz is
		// first read after the shutdown starts.
		c.Gateway.ShutdownSpread = 4 * time.Second
		// Room for the whole spread and the writers' close frames: a drain
		// cut short by the shutdown timeout (testenv's 5 s) closes what is
		// left with 1001, which CI once saw on a loaded machine.
		c.ShutdownTimeout = 3 * c.Gateway.ShutdownSpread
	})
	if code := readyz(t, h.URL()); code != http.StatusOK {
		t.Fatalf("readyz before shutdown = %d", code)
	}
	var (
		mu        sync.Mutex
		lastClose time.Time
		wg        sync.WaitGroup
	)
	for range clients {
		p := testenv.MustDialPusher(t, h.URL(), key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := p.ExpectClose()
			mu.Lock()
			defer mu.Unlock()
			if code != 4200 {
				t.Errorf("drained client closed with %d, want 4200", code)
			}
			lastClose = time.Now()
		}()
	}
	go h.Close()

	var notReady time.Time
	for notReady.IsZero() {
		res, err := http.Get(h.URL() + "/readyz")
		if err != nil {
			t.Fatalf("readyz during shutdown: %v (the listener closed before the drain)", err)
		}
		var body struct{ Status string }
		_ = json.NewDecoder(res.Body).Decode(&body)
		_ = res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			notReady = time.Now()
			if body.Status != "shutting_down" {
				t.Errorf("readyz status during shutdown = %q, want shutting_down", body.Status)
			}
		}
	}
	if _, err := testenv.DialPusher(t, h.URL(), key, "", nil); err == nil {
		t.Error("a new WebSocket was accepted while draining")
	}
	res, err := http.Get(h.URL() + "/sse?key=" + key + "&channel=ready")
	if err != nil {
		t.Fatalf("sse during shutdown: %v", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sse during shutdown = %d, want 503", res.StatusCode)
	}
	wg.Wait()
	if !notReady.Before(lastClose) {
		t.Fatalf("readyz turned 503 at %v, after the last client was closed at %v", notReady, lastClose)
	}
}

func readyz(t *testing.T, base string) int {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}
