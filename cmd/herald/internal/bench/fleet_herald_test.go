package bench_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// inProcessWorkers runs each worker as a goroutine over pipes: the same
// protocol as `herald bench --worker` processes, without the binary.
func inProcessWorkers(t *testing.T) bench.SpawnFunc {
	return func(ctx context.Context, _ int) (bench.WorkerProcess, error) {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := bench.ServeWorker(ctx, inR, outW, testinfra.Logger(t))
			outW.CloseWithError(io.EOF)
			done <- err
		}()
		return bench.WorkerProcess{In: inW, Out: outR, Wait: func() error { return <-done }}, nil
	}
}

// TestFleetAgainstHerald runs 3 workers holding 12 subscribers on 2
// channels, connected from two source addresses: the parent's accounting
// over every worker's subscribers must balance exactly.
func TestFleetAgainstHerald(t *testing.T) {
	h := testenv.Herald(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srcs, err := bench.ParseSources("127.0.0.1-127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bench.New(bench.Config{
		URL: h.URL(), WSURLs: []string{h.URL(), h.URL() + "/"}, Sources: srcs,
		AppID: testenv.AppID, Key: testenv.AppKey, Secret: testenv.AppSecret,
		Subscribers: 12, Channels: 2, Duration: time.Second, Publishers: 2, Drain: 20 * time.Second,
		Workers: 3, SpawnWorker: inProcessWorkers(t), Logger: testinfra.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if c := b.Connected(); c.Open != 12 || c.Failed != 0 || c.PerChannel[0] != 6 || c.PerChannel[1] != 6 {
		t.Fatalf("connected %+v", c)
	}
	steps, err := b.Sweep(ctx, []float64{10, 20}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		publishes := int64(10 * (i + 1))
		want := bench.Accounting{Expected: 6 * publishes, Delivered: 6 * publishes}
		if s.Published != publishes || s.Accounting != want || s.Subscribers != 12 || s.Stray != 0 {
			t.Errorf("step %d: published %d, %+v, %d subscribers, %d stray; want %d, %+v",
				s.Step, s.Published, s.Accounting, s.Subscribers, s.Stray, publishes, want)
		}
		if s.Latency.Count != uint64(want.Delivered) || s.Latency.P50 <= 0 || s.Latency.P90 < s.Latency.P50 || s.Latency.P99 > s.Latency.Max {
			t.Errorf("step %d: latency %+v", s.Step, s.Latency)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// TestFleetConnectFailuresAreCounted checks that a worker whose
// subscribers are refused reports them rather than stopping: with every
// one refused, Connect fails naming the cause.
func TestFleetConnectFailuresAreCounted(t *testing.T) {
	h := testenv.Herald(t)
	b, err := bench.New(bench.Config{
		URL: h.URL(), Key: "no-such-key", Subscribers: 4, Workers: 2, ConnectTimeout: 10 * time.Second,
		SpawnWorker: inProcessWorkers(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Connect(context.Background(), nil); err == nil {
		t.Fatal("Connect with an unknown key succeeded")
	}
	if c := b.Connected(); c.Failed != 4 || c.Open != 0 || c.FirstError == "" {
		t.Fatalf("connected %+v, want 4 failed", c)
	}
}
