package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// TestBenchAgainstHerald runs a tiny benchmark against a real Herald: 10
// subscribers on 2 channels, two one-second steps. Every event must arrive
// exactly once, with its latency recorded.
func TestBenchAgainstHerald(t *testing.T) {
	h := testenv.Herald(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := bench.New(bench.Config{
		URL: h.URL(), AppID: testenv.AppID, Key: testenv.AppKey, Secret: testenv.AppSecret,
		Subscribers: 10, Channels: 2, Duration: time.Second, PayloadBytes: 200,
		Publishers: 4, Drain: 20 * time.Second,
		Logger: testinfra.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	opened := 0
	if err := b.Connect(ctx, func(n int) { opened = n }); err != nil {
		t.Fatal(err)
	}
	if opened != 10 || b.Open() != 10 {
		t.Fatalf("opened %d, open %d, want 10", opened, b.Open())
	}
	steps, err := b.Sweep(ctx, []float64{20, 40}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 {
		t.Fatalf("%d steps, want 2", len(steps))
	}
	for i, s := range steps {
		publishes := int64(20 * (i + 1))
		// Each channel has 5 subscribers: every publish owes 5 deliveries.
		want := bench.Accounting{Expected: 5 * publishes, Delivered: 5 * publishes}
		if s.Published != publishes || s.PublishErrors != 0 || s.Accounting != want {
			t.Errorf("step %d: published %d (errors %d: %s), %+v; want %d published, %+v",
				s.Step, s.Published, s.PublishErrors, s.PublishError, s.Accounting, publishes, want)
		}
		if s.Latency.Count != uint64(want.Delivered) || s.Latency.P50 <= 0 || s.Latency.P99 > s.Latency.Max {
			t.Errorf("step %d: latency %+v", s.Step, s.Latency)
		}
		if s.Subscribers != 10 || s.Stray != 0 || s.DeliveryRate <= 0 {
			t.Errorf("step %d: %d subscribers, %d stray, %v deliveries/s", s.Step, s.Subscribers, s.Stray, s.DeliveryRate)
		}
	}
	if _, ok := bench.Best(steps, time.Minute); !ok {
		t.Errorf("no clean step in %+v", steps)
	}
}

// TestConnectFails checks that a refused subscriber fails Connect: here
// an unknown app key.
func TestConnectFails(t *testing.T) {
	h := testenv.Herald(t)
	b, err := bench.New(bench.Config{URL: h.URL(), Key: "no-such-key", Subscribers: 3, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Connect(context.Background(), nil); err == nil {
		t.Fatal("Connect with an unknown key succeeded")
	}
}
