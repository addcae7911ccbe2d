package gateway

import (
	"math"
	"testing"
)

// TestSendQueueBytesDefaults: zero takes the default, a value that fits
// a connection's int32 queue count is kept, and a larger one is capped
// to it (conn.queued would otherwise overflow before the slow-consumer
// check could fire).
func TestSendQueueBytesDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   int
		want int
	}{
		{"zero", 0, DefaultSendQueueBytes},
		{"set", 4 << 20, 4 << 20},
		{"largest kept", math.MaxInt32, math.MaxInt32},
		{"over an int32", math.MaxInt, math.MaxInt32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{SendQueueBytes: tc.in}
			c.setDefaults()
			if c.SendQueueBytes != tc.want {
				t.Fatalf("SendQueueBytes = %d, want %d", c.SendQueueBytes, tc.want)
			}
		})
	}
}
