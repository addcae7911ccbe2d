package bench

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRSS(t *testing.T) {
	cases := []struct {
		name, page string
		want       int64
		err        error
	}{
		{"present", "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 5.4525952e+07\nprocess_start_time_seconds 1.7e+09\n", 54525952, nil},
		{"a longer name is not it", "process_resident_memory_bytes_total 1\n", 0, ErrNoRSS},
		{"absent", "go_goroutines 12\n", 0, ErrNoRSS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRSS(strings.NewReader(tc.page))
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("parseRSS = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if _, err := parseRSS(strings.NewReader("process_resident_memory_bytes x\n")); err == nil || errors.Is(err, ErrNoRSS) {
		t.Fatalf("a malformed value: %v, want a parse error", err)
	}
}
