package kvwatch_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/internal/testinfra"
)

// historyDepth keeps every value TestLiveKeepsLatestPuts writes.
const historyDepth = 8

// history returns the real entries of a bucket after running writes on
// it, deletes included, in stream order.
func history(t *testing.T, writes func(ctx context.Context, kv jetstream.KeyValue) error) []jetstream.KeyValueEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "HISTORY", History: historyDepth})
	if err != nil {
		t.Fatal(err)
	}
	if err := writes(ctx, kv); err != nil {
		t.Fatal(err)
	}
	kw, err := kv.WatchAll(ctx, jetstream.IncludeHistory())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = kw.Stop() }()
	var out []jetstream.KeyValueEntry
	for kve := range kw.Updates() {
		if kve == nil {
			return out
		}
		out = append(out, kve)
	}
	t.Fatal("watcher closed before the end of the history")
	return nil
}

// puts writes n keys.
func puts(n int) func(context.Context, jetstream.KeyValue) error {
	return func(ctx context.Context, kv jetstream.KeyValue) error {
		for i := range n {
			if _, err := kv.PutString(ctx, "k"+strconv.Itoa(i), "v"); err != nil {
				return err
			}
		}
		return nil
	}
}

func keys(entries []jetstream.KeyValueEntry) []string {
	out := make([]string, 0, len(entries))
	for _, kve := range entries {
		s := kve.Key() + "=" + string(kve.Value())
		if kve.Operation() != jetstream.KeyValuePut {
			s = "-" + kve.Key()
		}
		out = append(out, s)
	}
	return out
}

func TestLiveKeepsLatestPuts(t *testing.T) {
	entries := history(t, func(ctx context.Context, kv jetstream.KeyValue) error {
		for _, w := range []struct{ key, value string }{
			{"a", "1"}, {"b", "1"}, {"a", "2"}, {"b", ""}, {"c", "1"}, {"d", "1"}, {"d", ""}, {"d", "2"},
		} {
			var err error
			if w.value == "" {
				err = kv.Delete(ctx, w.key)
			} else {
				_, err = kv.PutString(ctx, w.key, w.value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if got, want := keys(kvwatch.Live(entries)), []string{"a=2", "c=1", "d=2"}; !slices.Equal(got, want) {
		t.Fatalf("live = %q, want %q", got, want)
	}
}

func TestDrainBatches(t *testing.T) {
	const extra = 5
	entries := history(t, puts(kvwatch.MaxBatch+extra+1))
	first, rest := entries[0], entries[1:]
	cases := []struct {
		name     string
		queued   []jetstream.KeyValueEntry
		nils     int // nil markers queued after the entries
		close    bool
		wantLen  int
		wantOpen bool
		wantLeft int
	}{
		{name: "nothing queued", wantLen: 1, wantOpen: true},
		{name: "some queued", queued: rest[:3], wantLen: 4, wantOpen: true},
		{name: "nil markers skipped", queued: rest[:2], nils: 2, wantLen: 3, wantOpen: true},
		{name: "capped at MaxBatch", queued: rest, wantLen: kvwatch.MaxBatch, wantOpen: true, wantLeft: extra + 1},
		{name: "closed", queued: rest[:2], close: true, wantLen: 3, wantOpen: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan jetstream.KeyValueEntry, len(tc.queued)+tc.nils)
			for _, kve := range tc.queued {
				ch <- kve
			}
			for range tc.nils {
				ch <- nil
			}
			if tc.close {
				close(ch)
			}
			batch, open := kvwatch.Drain(ch, first)
			if len(batch) != tc.wantLen || open != tc.wantOpen || len(ch) != tc.wantLeft {
				t.Fatalf("drain = %d entries, open %v, %d left; want %d, %v, %d",
					len(batch), open, len(ch), tc.wantLen, tc.wantOpen, tc.wantLeft)
			}
			if !slices.Equal(keys(batch), keys(append([]jetstream.KeyValueEntry{first}, tc.queued...)[:len(batch)])) {
				t.Fatal("drain reordered the updates")
			}
		})
	}
}
