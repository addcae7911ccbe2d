package logstream_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/logstream"
)

func TestStreamConfigWithDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   logstream.Config
		want logstream.Config
	}{
		{"zero takes every default", logstream.Config{},
			logstream.Config{Replicas: logstream.DefaultReplicas, MaxAge: logstream.DefaultMaxAge, Duplicates: logstream.DefaultDuplicates}},
		{"set fields are kept", logstream.Config{Replicas: 3, MaxAge: time.Hour, Duplicates: time.Minute},
			logstream.Config{Replicas: 3, MaxAge: time.Hour, Duplicates: time.Minute}},
		// The server refuses a duplicate window longer than the stream's
		// retention.
		{"duplicates capped by max age", logstream.Config{MaxAge: time.Second},
			logstream.Config{Replicas: logstream.DefaultReplicas, MaxAge: time.Second, Duplicates: time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.in.WithDefaults(); got != c.want {
				t.Fatalf("WithDefaults(%+v) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}
