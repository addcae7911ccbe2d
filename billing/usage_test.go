package billing

import (
	"testing"
	"time"
)

func TestTotal(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := Total([]Period{
		{Start: at, Counters: Counters{MessagesPublished: 2, PeakConnections: 9, BytesIn: 5}},
		{Start: at.Add(time.Hour), Counters: Counters{MessagesPublished: 3, PeakConnections: 4, HistoryReads: 1}},
	})
	want := Counters{MessagesPublished: 5, PeakConnections: 9, BytesIn: 5, HistoryReads: 1}
	if got != want {
		t.Fatalf("Total = %+v; want %+v", got, want)
	}
	if !Total(nil).IsZero() {
		t.Error("Total(nil) is not zero")
	}
}
