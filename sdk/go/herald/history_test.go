package herald_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/heraldhq/herald/sdk/go/herald"
)

func TestHistoryPages(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	const n = 25
	serials := make([]uint64, n)
	for i := range serials {
		res, err := a.client.Trigger(ctx(t), []string{"log"}, "line", i)
		if err != nil {
			t.Fatal(err)
		}
		serials[i] = res.Serials["log"]
	}
	read := func(opts herald.HistoryOptions) []uint64 {
		t.Helper()
		var got []uint64
		for m, err := range a.client.History(ctx(t), "log", opts) {
			if err != nil {
				t.Fatal(err)
			}
			if m.Event != "line" || m.PublishedAt().IsZero() {
				t.Fatalf("message %+v", m)
			}
			got = append(got, m.Serial)
		}
		return got
	}
	backwards := slices.Clone(serials)
	slices.Reverse(backwards)
	tests := []struct {
		name string
		opts herald.HistoryOptions
		want []uint64
	}{
		{"forwards in pages of 10", herald.HistoryOptions{PageSize: 10, Direction: herald.Forwards}, serials},
		{"backwards (the default)", herald.HistoryOptions{PageSize: 7}, backwards},
		{"from a serial", herald.HistoryOptions{PageSize: 4, Direction: herald.Forwards, FromSerial: serials[19]}, serials[20:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := read(tt.opts); !slices.Equal(got, tt.want) {
				t.Fatalf("serials = %v, want %v", got, tt.want)
			}
		})
	}

	// Stopping the loop stops the reads.
	count := 0
	for _, err := range a.client.History(ctx(t), "log", herald.HistoryOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Fatalf("read %d", count)
	}

	for _, err := range a.client.History(ctx(t), "log", herald.HistoryOptions{PageSize: 5000}) {
		var he *herald.Error
		if !errors.As(err, &he) || he.Field != "limit" {
			t.Fatalf("page size 5000: %v", err)
		}
	}
}
