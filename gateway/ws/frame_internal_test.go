package ws

import "testing"

// TestFrameEnd: a write cut at any offset must be completed up to the end
// of the frame it was in, whatever the frame's length encoding.
func TestFrameEnd(t *testing.T) {
	var b []byte
	var ends []int
	for _, n := range []int{0, 5, 125, 126, 300, 70000} {
		b = AppendFrame(b, OpText, true, make([]byte, n))
		ends = append(ends, len(b))
	}
	start := 0
	for _, end := range ends {
		for _, off := range []int{start + 1, (start + end) / 2, end - 1} {
			if off <= start || off >= end {
				continue
			}
			if got := frameEnd(b, off); got != end {
				t.Fatalf("frameEnd(%d) = %d, want %d", off, got, end)
			}
		}
		if got := frameEnd(b, end); got != end {
			t.Fatalf("frameEnd at the boundary %d = %d", end, got)
		}
		start = end
	}
	if got := frameEnd(b, 0); got != 0 {
		t.Fatalf("frameEnd(0) = %d", got)
	}
}
