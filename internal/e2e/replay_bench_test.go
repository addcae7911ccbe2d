package e2e_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

// BenchmarkResume1000 measures a reconnect that resumes 1,000 missed
// messages: from the subscribe to the resume result, replay included.
// go test -run '^$' -bench Resume1000 ./internal/e2e/
func BenchmarkResume1000(b *testing.B) {
	const missed = 1000
	h := testenv.Herald(b)
	var first uint64
	for i := 0; i < missed/10; i++ {
		batch := make([]map[string]any, 10)
		for j := range batch {
			batch[j] = map[string]any{"name": "m", "data": fmt.Sprint(i*10 + j), "channel": "resume-bench"}
		}
		body, _ := json.Marshal(map[string]any{"batch": batch})
		code, resp := testenv.SignedRequest(b, "POST", h.URL(), "/apps/"+appID+"/batch_events", key, secret, nil, body)
		if code != 200 {
			b.Fatalf("batch = %d %s", code, resp)
		}
		if i == 0 {
			var out struct {
				Batch []struct{ Serials map[string]uint64 }
			}
			_ = json.Unmarshal(resp, &out)
			first = out.Batch[0].Serials["resume-bench"]
		}
	}
	b.ResetTimer()
	for b.Loop() {
		p := testenv.MustDialPusher(b, h.URL(), key)
		p.Send("pusher:subscribe", "", map[string]any{"channel": "resume-bench", "auth": "", "resume_from": first})
		n := 0
		for {
			e, err := p.Next()
			if err != nil {
				b.Fatal(err)
			}
			if e.Event == "m" {
				n++
			}
			if e.Event == "herald_internal:resume_result" {
				if e.Data != `{"recovered":true}` || n != missed-1 {
					b.Fatalf("resume: %s after %d messages", e.Data, n)
				}
				break
			}
		}
		_ = p.WS().Close()
	}
	b.ReportMetric(float64(missed-1), "msgs/resume")
}
