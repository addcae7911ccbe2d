package gateway

import (
	"math"
	"testing"

	"github.com/heraldhq/herald/gateway/protocol"
)

func TestPlanReplay(t *testing.T) {
	set := func(n uint64) protocol.Count { return protocol.Count{Set: true, N: n} }
	bad := protocol.Count{Set: true, Invalid: true}
	huge := protocol.Count{Set: true, N: math.MaxUint64, Saturated: true}
	for _, tc := range []struct {
		name string
		req  protocol.Subscribe
		want replayPlan
		msg  string
	}{
		{"nothing", protocol.Subscribe{}, replayPlan{}, ""},
		{"resume", protocol.Subscribe{ResumeFrom: set(7), Rewind: set(3)}, replayPlan{resume: true, from: 7}, ""},
		{"resume from 0", protocol.Subscribe{ResumeFrom: set(0)}, replayPlan{resume: true}, ""},
		{"largest serial", protocol.Subscribe{ResumeFrom: set(math.MaxUint64)}, replayPlan{resume: true, from: math.MaxUint64}, ""},
		{"rewind", protocol.Subscribe{Rewind: set(3), RewindMs: set(500)}, replayPlan{rewind: 3, rewindMs: 500}, ""},
		{"rewind clamps", protocol.Subscribe{Rewind: set(1 << 40)}, replayPlan{rewind: MaxRewind}, ""},
		{"rewind beyond uint64 clamps", protocol.Subscribe{Rewind: huge}, replayPlan{rewind: MaxRewind}, ""},
		{"rewind_ms beyond int64", protocol.Subscribe{RewindMs: huge}, replayPlan{rewindMs: math.MaxInt64}, ""},
		{"resume_from beyond any serial", protocol.Subscribe{ResumeFrom: huge}, replayPlan{}, msgBadResumeFrom},
		{"bad resume_from", protocol.Subscribe{ResumeFrom: bad, Rewind: set(1)}, replayPlan{}, msgBadResumeFrom},
		// A bad field is refused even where a valid resume_from wins.
		{"bad rewind", protocol.Subscribe{ResumeFrom: set(1), Rewind: bad}, replayPlan{}, msgBadRewind},
		{"bad rewind_ms", protocol.Subscribe{RewindMs: bad}, replayPlan{}, msgBadRewindMs},
	} {
		got, msg := planReplay(&tc.req)
		if got != tc.want || msg != tc.msg {
			t.Errorf("%s: planReplay = %+v %q, want %+v %q", tc.name, got, msg, tc.want, tc.msg)
		}
	}
}
