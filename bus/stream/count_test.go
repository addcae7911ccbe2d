package stream_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
)

func TestCounter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := newPublisher(t, e.js, testTimeout)
	serials := publishN(t, p, "news", 6)
	other := msg("news", "ev", "{}")
	other.AppID = "another-app"
	publish(t, p, other)

	s, err := e.js.Stream(t.Context(), stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(serial uint64) time.Time {
		m, err := s.GetMsg(t.Context(), serial)
		if err != nil {
			t.Fatal(err)
		}
		return m.Time
	}
	first, third := stamp(serials[0]), stamp(serials[2])
	c := stream.NewCounter(e.js)
	far := first.Add(time.Hour)
	tests := []struct {
		name string
		q    stream.CountQuery
		want int
	}{
		{"everything of the app", stream.CountQuery{AppID: testApp, From: first.Add(-time.Hour), To: far, UpTo: 1 << 40}, 6},
		{"up to a serial", stream.CountQuery{AppID: testApp, From: first.Add(-time.Hour), To: far, UpTo: serials[3]}, 4},
		{"nothing counted yet", stream.CountQuery{AppID: testApp, From: first.Add(-time.Hour), To: far}, 0},
		{"from a time", stream.CountQuery{AppID: testApp, From: third, To: far, UpTo: 1 << 40}, 4},
		{"before the first", stream.CountQuery{AppID: testApp, From: first.Add(-time.Hour), To: first, UpTo: 1 << 40}, 0},
		{"another app", stream.CountQuery{AppID: "another-app", From: first.Add(-time.Hour), To: far, UpTo: 1 << 40}, 1},
		{"no such app", stream.CountQuery{AppID: "nobody", From: first.Add(-time.Hour), To: far, UpTo: 1 << 40}, 0},
	}
	for _, tc := range tests {
		n := 0
		held, err := c.Count(t.Context(), tc.q, func(time.Time) { n++ })
		if err != nil || n != tc.want || !held.IsZero() {
			t.Errorf("%s: %d messages, held %v, %v; want %d", tc.name, n, held, err, tc.want)
		}
	}

	// After losing messages from its front the stream holds everything
	// only from its oldest message on.
	if err := s.DeleteMsg(t.Context(), serials[0]); err != nil {
		t.Fatal(err)
	}
	held, err := c.Count(t.Context(), tests[0].q, func(time.Time) {})
	if err != nil || !held.Equal(stamp(serials[1])) {
		t.Errorf("after deleting the first: held %v, %v; want %v", held, err, stamp(serials[1]))
	}
	if err := s.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := 0
	held, err = c.Count(t.Context(), tests[0].q, func(time.Time) { n++ })
	if err != nil || n != 0 || held.Before(far.Add(-time.Hour)) {
		t.Errorf("after a purge: %d messages, held %v, %v", n, held, err)
	}
}
