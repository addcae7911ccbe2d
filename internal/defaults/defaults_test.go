package defaults_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/defaults"
)

func TestPositive(t *testing.T) {
	const def = 5 * time.Second
	for _, tc := range []struct {
		v, want time.Duration
	}{
		{0, def},
		{-time.Second, def},
		{time.Nanosecond, time.Nanosecond},
		{time.Minute, time.Minute},
	} {
		if got := defaults.Positive(tc.v, def); got != tc.want {
			t.Errorf("Positive(%v, %v) = %v, want %v", tc.v, def, got, tc.want)
		}
	}
	if got := defaults.Positive(0, 7); got != 7 {
		t.Errorf("Positive(0, 7) = %d, want 7", got)
	}
	if got := defaults.Positive(3, 7); got != 3 {
		t.Errorf("Positive(3, 7) = %d, want 3", got)
	}
}
