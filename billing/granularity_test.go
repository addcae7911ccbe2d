package billing

import (
	"errors"
	"testing"
	"time"
)

func TestParseGranularity(t *testing.T) {
	for in, want := range map[string]Granularity{"": Hour, "minute": Minute, "hour": Hour, "day": Day, "month": Month} {
		if g, err := ParseGranularity(in); err != nil || g != want {
			t.Errorf("ParseGranularity(%q) = %q, %v; want %q", in, g, err, want)
		}
	}
	for _, in := range []string{"week", "Hour", " hour", "minutes"} {
		if _, err := ParseGranularity(in); !errors.Is(err, ErrUnknownGranularity) {
			t.Errorf("ParseGranularity(%q) error = %v; want ErrUnknownGranularity", in, err)
		}
	}
}

func TestPeriods(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name        string
		g           Granularity
		from, to    string
		first, last string
		n           int
		err         error
	}{
		{"hours overlapping", Hour, "2026-01-31T22:30:00Z", "2026-02-01T01:00:00Z", "2026-01-31T22:00:00Z", "2026-02-01T00:00:00Z", 3, nil},
		{"end exclusive", Minute, "2026-03-01T10:00:00Z", "2026-03-01T10:02:00Z", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", 2, nil},
		{"other zone is UTC", Day, "2026-03-01T23:30:00-02:00", "2026-03-02T02:00:00Z", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z", 1, nil},
		{"months of unequal length", Month, "2026-01-31T00:00:00Z", "2026-03-01T00:00:01Z", "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", 3, nil},
		{"leap day", Day, "2028-02-28T12:00:00Z", "2028-03-01T00:00:00Z", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", 2, nil},
		{"empty", Hour, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "", "", 0, nil},
		{"inverted", Hour, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "", "", 0, ErrInvertedRange},
		{"exactly the most", Minute, "2026-01-01T00:00:00Z", "2026-01-01T16:40:00Z", "2026-01-01T00:00:00Z", "2026-01-01T16:39:00Z", MaxPeriods, nil},
		{"one too many", Minute, "2026-01-01T00:00:00Z", "2026-01-01T16:40:01Z", "", "", 0, ErrRangeTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, last, n, err := tc.g.Periods(at(tc.from), at(tc.to))
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error = %v; want %v", err, tc.err)
			}
			if n != tc.n {
				t.Errorf("n = %d; want %d", n, tc.n)
			}
			if tc.first != "" && (!first.Equal(at(tc.first)) || !last.Equal(at(tc.last))) {
				t.Errorf("periods %s .. %s; want %s .. %s", first, last, tc.first, tc.last)
			}
		})
	}
}

func TestCountersAdd(t *testing.T) {
	c := Counters{MessagesPublished: 1, MessagesDelivered: 50, PeakConnections: 7, WebhookCalls: 2}
	c.Add(Counters{MessagesPublished: 2, PresenceEvents: 3, PeakConnections: 5, BytesOut: 10})
	want := Counters{MessagesPublished: 3, MessagesDelivered: 50, PresenceEvents: 3, WebhookCalls: 2, PeakConnections: 7, BytesOut: 10}
	if c != want {
		t.Fatalf("Add: %+v; want %+v", c, want)
	}
	if got := c.Messages(); got != 3+50+3+2 {
		t.Errorf("Messages() = %d; want 58", got)
	}
	if v := c.Values(); len(v) != len(Columns) || v[0] != c.Messages() {
		t.Errorf("Values() = %v; want %d values, messages first", v, len(Columns))
	}
	if c.IsZero() || !(Counters{}).IsZero() {
		t.Error("IsZero is wrong")
	}
}
