package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/controlplane"
)

// BenchmarkWriteHistory measures WriteHistory alone: batches of 1,000
// messages of 128 bytes on 100 channels into a growing table.
func BenchmarkWriteHistory(b *testing.B) {
	f := newFixture(b)
	data := bytes.Repeat([]byte("x"), 128)
	const batch = 1000
	msgs := make([]controlplane.HistoryMessage, batch)
	now := time.Now()
	var serial uint64
	b.ReportAllocs()
	for b.Loop() {
		for i := range msgs {
			serial++
			msgs[i] = controlplane.HistoryMessage{Stream: "HERALD_MSG", Serial: serial, AppID: "app1",
				Channel: fmt.Sprintf("chan-%d", serial%100), Event: "ev", Data: data, PublishedAt: now}
		}
		if _, err := f.store.WriteHistory(context.Background(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
}
