package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMarkRoundTrip(t *testing.T) {
	m := Mark{Step: 3, Seq: 12345, SentNs: 1_700_000_000_123_456_789}
	for _, size := range []int{0, 100, 1000} {
		data := AppendData(nil, m, size)
		if len(data) < size {
			t.Fatalf("size %d: data of %d bytes", size, len(data))
		}
		if !json.Valid(data) {
			t.Fatalf("data is not JSON: %s", data)
		}
		got, ok := ParseMark(data)
		if !ok || got != m {
			t.Fatalf("ParseMark(%s) = %+v, %v", data, got, ok)
		}
		// As a server frame carries it: the data as a JSON string.
		quoted, _ := json.Marshal(string(data))
		frame := `{"event":"bench","channel":"bench-0","data":` + string(quoted) + `,"serial":77}`
		i := strings.Index(frame, `"data":"`)
		got, ok = ParseMark([]byte(frame[i+len(`"data":"`):]))
		if !ok || got != m {
			t.Fatalf("ParseMark(frame %s) = %+v, %v", frame, got, ok)
		}
	}
}

func TestParseMarkRejects(t *testing.T) {
	for _, in := range []string{
		``,
		`{"seq":1,"ts":2}`,
		`{"step":1,"ts":2}`,
		`{"step":1,"seq":2}`,
		`{"step":x,"seq":1,"ts":2}`,
		`{"step":1,"seq":1,"ts":99999999999999999999999}`,
		`{"step":1,"seq":1,"ts":18446744073709551615}`,
	} {
		if m, ok := ParseMark([]byte(in)); ok {
			t.Errorf("ParseMark(%s) = %+v, want rejected", in, m)
		}
	}
}

func TestParseMarkAllocs(t *testing.T) {
	data := AppendData(nil, Mark{Step: 1, Seq: 2, SentNs: 3}, 100)
	if n := testing.AllocsPerRun(100, func() { ParseMark(data) }); n != 0 {
		t.Fatalf("ParseMark allocates %v times", n)
	}
}
