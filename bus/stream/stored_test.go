package stream_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
)

// Stored finds the message stored under an idempotency key on its
// channel, across batches, and nothing for another key, another channel,
// or once the duplicate window has passed.
func TestStored(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{Batch: 3})
	var want uint64
	for i := range 10 {
		m := msg("a", "ev", "x")
		m.MsgID = fmt.Sprintf("id-%d", i)
		s := publish(t, p, m)
		if i == 7 {
			want = s
		}
		publish(t, p, msg("b", "ev", "y"))
	}
	now := time.Now()
	if s, ok, err := r.Stored(t.Context(), testApp, "a", "id-7", now); err != nil || !ok || s != want {
		t.Fatalf("Stored(id-7) = %d, %v, %v; want %d", s, ok, err, want)
	}
	for _, tc := range []struct{ channel, id string }{{"a", "id-10"}, {"b", "id-7"}, {"none", "id-7"}} {
		if s, ok, err := r.Stored(t.Context(), testApp, tc.channel, tc.id, now); err != nil || ok {
			t.Errorf("Stored(%s, %s) = %d, %v, %v; want not found", tc.channel, tc.id, s, ok, err)
		}
	}
	if _, ok, err := r.Stored(t.Context(), testApp, "a", "id-7", now.Add(stream.DefaultDuplicates+time.Minute)); err != nil || ok {
		t.Errorf("Stored past the duplicate window = %v, %v; want not found", ok, err)
	}
}
