package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

// A wrong resume_from, rewind or rewind_ms is refused on its channel with a
// subscription_error naming the field; the connection and its other
// subscriptions carry on.
func TestSubscribeRefusesBadExtensionFields(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	if e := p.Subscribe("fields-ok", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe: %+v", e)
	}
	messages := map[string]string{
		"resume_from": "resume_from must be a serial (a non-negative integer)",
		"rewind":      "rewind must be a non-negative integer (a count of messages)",
		"rewind_ms":   "rewind_ms must be a non-negative integer (milliseconds)",
	}
	// One connection for every case (a client's own *testing.T must not
	// fail from a subtest), in a fixed order.
	i := 0
	for _, field := range []string{"resume_from", "rewind", "rewind_ms"} {
		for _, value := range []string{`"abc"`, `"5"`, `-1`, `1.5`, `1e300`, `true`, `{}`, `[1]`} {
			i++
			channel := fmt.Sprintf("fields-%d", i)
			data := fmt.Sprintf(`{"channel":%q,"auth":"",%q:%s}`, channel, field, value)
			// Sent as an object, and as a JSON string holding one.
			for _, frame := range []string{
				`{"event":"pusher:subscribe","data":` + data + `}`,
				fmt.Sprintf(`{"event":"pusher:subscribe","data":%q}`, data),
			} {
				p.SendRaw(frame)
				e, skipped := p.Expect("pusher:subscription_error", channel)
				if len(skipped) != 0 {
					t.Fatalf("%s: before the error: %v", frame, skipped)
				}
				var se struct {
					Type   string `json:"type"`
					Error  string `json:"error"`
					Status int    `json:"status"`
				}
				e.DecodeData(t, &se)
				if want := messages[field]; se.Type != "InvalidChannel" || se.Status != 400 || se.Error != want {
					t.Fatalf("%s: subscription_error %+v, want InvalidChannel 400 %q", frame, se, want)
				}
			}
		}
	}
	// resume_from above any serial is refused too; any rewind or
	// rewind_ms, however large, is clamped.
	e := subscribeWith(t, p, "fields-huge-resume", map[string]any{"resume_from": json18446744073709551616()})
	if e.Event != "pusher:subscription_error" || !strings.Contains(e.Data, "resume_from") {
		t.Fatalf("resume_from 2^64: %+v", e)
	}
	for _, field := range []string{"rewind", "rewind_ms"} {
		channel := "fields-huge-" + field
		if e := subscribeWith(t, p, channel, map[string]any{field: json18446744073709551616()}); e.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("%s 2^64: %+v", field, e)
		}
	}
	// Still connected, still on fields-ok.
	testenv.Trigger(t, h.URL(), appID, key, secret, "m", "still here", "fields-ok")
	if e, _ := p.Expect("m", "fields-ok"); e.Data != "still here" {
		t.Fatalf("fields-ok: %+v", e)
	}
}

// json18446744073709551616 is 2^64, one more than the largest serial, as
// a JSON number.
func json18446744073709551616() any { return jsonNumber("18446744073709551616") }

type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// A rewind_ms too large for a Duration replays the whole resume window
// (it overflowed into a window in the future, replaying nothing).
func TestRewindMsHuge(t *testing.T) {
	h := testenv.Herald(t)
	for i := 0; i < 3; i++ {
		testenv.Trigger(t, h.URL(), appID, key, secret, "m", fmt.Sprint(i), "rewound")
	}
	p := testenv.MustDialPusher(t, h.URL(), key)
	if e := subscribeWith(t, p, "rewound", map[string]any{"rewind_ms": int64(1) << 62}); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe: %+v", e)
	}
	for i := 0; i < 3; i++ {
		if e, _ := p.Expect("m", "rewound"); e.Data != fmt.Sprint(i) {
			t.Fatalf("rewound message = %q, want %d", e.Data, i)
		}
	}
}
