package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// apiError is the one error shape of every answer.
type apiError struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func TestRESTQueryAnswersAndErrors(t *testing.T) {
	h := testenv.Herald(t)
	batch := func(n int, item string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = item
		}
		return `{"batch":[` + strings.Join(items, ",") + `]}`
	}
	okItem := `{"name":"e","data":"d","channel":"c"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		// want is the exact body of a 200, or the error field of a 4xx
		// ("" for none).
		want string
	}{
		{"no channels is an empty map", "GET", "/apps/app-id/channels", "", 200, `{"channels":{}}`},
		{"presence list", "GET", "/apps/app-id/channels?filter_by_prefix=presence-&info=user_count", "", 200, `{"channels":{}}`},
		{"user_count without prefix", "GET", "/apps/app-id/channels?info=user_count", "", 400, "info"},
		{"unknown attribute", "GET", "/apps/app-id/channels?info=bogus", "", 400, "info"},
		{"bad prefix", "GET", "/apps/app-id/channels?filter_by_prefix=a%20b", "", 400, "filter_by_prefix"},
		{"unoccupied channel", "GET", "/apps/app-id/channels/nobody-here", "", 200, `{"occupied":false}`},
		{"counts of an empty channel", "GET", "/apps/app-id/channels/presence-empty?info=user_count,subscription_count", "", 200, `{"occupied":false,"user_count":0,"subscription_count":0}`},
		{"invalid channel name", "GET", "/apps/app-id/channels/bad name", "", 400, "channel"},
		{"long channel name", "GET", "/apps/app-id/channels/" + strings.Repeat("c", 201), "", 400, "channel"},
		{"user_count of a public channel", "GET", "/apps/app-id/channels/public?info=user_count", "", 400, "info"},
		{"cache of a channel without cache", "GET", "/apps/app-id/channels/public?info=cache", "", 400, "info"},
		{"nothing cached", "GET", "/apps/app-id/channels/cache-empty?info=cache", "", 200, `{"occupied":false}`},
		{"users of a presence channel", "GET", "/apps/app-id/channels/presence-empty/users", "", 200, `{"users":[]}`},
		{"users of a public channel", "GET", "/apps/app-id/channels/public/users", "", 400, "channel"},
		{"trigger with bad info", "POST", "/apps/app-id/events", `{"name":"e","data":"d","channel":"c","info":"cache"}`, 400, "info"},
		{"batch", "POST", "/apps/app-id/batch_events", batch(2, okItem), 200, ""},
		{"batch of 11", "POST", "/apps/app-id/batch_events", batch(11, okItem), 400, "batch"},
		{"empty batch", "POST", "/apps/app-id/batch_events", `{"batch":[]}`, 400, "batch"},
		{"batch without batch", "POST", "/apps/app-id/batch_events", `{"name":"e"}`, 400, "batch"},
		{"malformed batch", "POST", "/apps/app-id/batch_events", `{"batch":[`, 400, ""},
		{"batch item with a bad channel", "POST", "/apps/app-id/batch_events", `{"batch":[` + okItem + `,{"name":"e","data":"d","channel":"a b"}]}`, 400, "batch[1].channel"},
		{"batch item without channel", "POST", "/apps/app-id/batch_events", `{"batch":[{"name":"e","data":"d"}]}`, 400, "batch[0].channels"},
		{"batch item with a bad info", "POST", "/apps/app-id/batch_events", `{"batch":[{"name":"e","data":"d","channel":"c","info":"x"}]}`, 400, "batch[0].info"},
		{"batch item data not a string", "POST", "/apps/app-id/batch_events", `{"batch":[{"name":"e","data":{},"channel":"c"}]}`, 400, "batch[0].data"},
		{"batch item not an object", "POST", "/apps/app-id/batch_events", `{"batch":[1]}`, 400, "batch[0]"},
		{"batch item data a lone surrogate", "POST", "/apps/app-id/batch_events", `{"batch":[` + okItem + `,{"name":"e","data":"\udc00","channel":"c"}]}`, 400, "batch[1].data"},
		{"trigger data a lone surrogate", "POST", "/apps/app-id/events", `{"name":"e","data":"a\ud800b","channel":"c"}`, 400, "data"},
		{"trigger data invalid UTF-8", "POST", "/apps/app-id/events", "{\"name\":\"e\",\"data\":\"\xff\",\"channel\":\"c\"}", 400, "data"},
		{"trigger data with NUL", "POST", "/apps/app-id/events", `{"name":"e","data":"a\u0000b","channel":"c"}`, 200, ""},
		{"trigger data a surrogate pair", "POST", "/apps/app-id/events", `{"name":"e","data":"\ud83d\ude00","channel":"c"}`, 200, ""},
		{"trigger key too long", "POST", "/apps/app-id/events", `{"name":"e","data":"d","channel":"c","idempotency_key":"` + strings.Repeat("k", 201) + `"}`, 400, "idempotency_key"},
		{"batch item too big", "POST", "/apps/app-id/batch_events", `{"batch":[{"name":"e","data":"` + strings.Repeat("x", 10241) + `","channel":"c"}]}`, 413, "batch[0].data"},
		{"terminate", "POST", "/apps/app-id/users/nobody/terminate_connections", `{}`, 200, `{}`},
		{"terminate without body", "POST", "/apps/app-id/users/nobody/terminate_connections", ``, 200, `{}`},
		{"terminate a long user id", "POST", "/apps/app-id/users/" + strings.Repeat("u", 129) + "/terminate_connections", `{}`, 400, "user_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, query, _ := strings.Cut(tc.path, "?")
			q, err := url.ParseQuery(query)
			if err != nil {
				t.Fatal(err)
			}
			status, body := testenv.SignedRequest(t, tc.method, h.URL(), path, key, secret, q, []byte(tc.body))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if status == 200 {
				if tc.want != "" && strings.TrimSpace(string(body)) != tc.want {
					t.Fatalf("body %s, want %s", body, tc.want)
				}
				return
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("error body %s", body)
			}
			if e.Error.Field != tc.want {
				t.Fatalf("error field %q, want %q: %s", e.Error.Field, tc.want, body)
			}
		})
	}
}

func TestRESTCacheInfoAndBatchIdempotency(t *testing.T) {
	h := testenv.Herald(t)
	testenv.Trigger(t, h.URL(), appID, key, secret, "score", "2-0", "cache-scores")
	status, body := testenv.SignedRequest(t, "GET", h.URL(), "/apps/app-id/channels/cache-scores", key, secret,
		url.Values{"info": {"cache"}}, nil)
	var got struct {
		Occupied bool
		Cache    struct {
			Event, Data string
			TTL         int
		}
	}
	if err := json.Unmarshal(body, &got); status != 200 || err != nil {
		t.Fatalf("cache info = %d %s", status, body)
	}
	if got.Cache.Event != "score" || got.Cache.Data != "2-0" || got.Cache.TTL <= 0 || got.Cache.TTL > 30*60 {
		t.Fatalf("cache info = %s", body)
	}

	p := testenv.MustDialPusher(t, h.URL(), key)
	mustSucceed(t, p.Subscribe("orders", key, "", ""))
	send := func() string {
		t.Helper()
		req, _ := http.NewRequest("POST", h.URL()+"/apps/app-id/batch_events", bytes.NewReader([]byte(
			`{"batch":[{"name":"o1","data":"1","channel":"orders"},{"name":"o2","data":"2","channel":"orders"},`+
				`{"name":"o3","data":"3","channel":"orders","idempotency_key":"own-key"}]}`)))
		req.SetBasicAuth(key, secret)
		req.Header.Set("Idempotency-Key", "batch-42")
		code, b := testenv.Do(t, http.DefaultClient, req)
		if code != 200 {
			t.Fatalf("batch = %d %s", code, b)
		}
		return string(b)
	}
	first, retry := send(), send()
	if first != retry {
		t.Fatalf("the retry answered differently:\n%s\n%s", first, retry)
	}
	var serials struct {
		Batch []struct{ Serials map[string]uint64 }
	}
	if err := json.Unmarshal([]byte(first), &serials); err != nil || len(serials.Batch) != 3 {
		t.Fatalf("batch answer %s", first)
	}
	if s := serials.Batch; s[0].Serials["orders"] == s[1].Serials["orders"] || s[1].Serials["orders"] == s[2].Serials["orders"] {
		t.Fatalf("items of one batch were taken as duplicates: %s", first)
	}
	// Items of one batch to the same channel may be stored in either order
	// (stream.PublishBatch): read all three in any order, each with the
	// serial the batch answer gave it, in increasing serials (one channel is
	// delivered in order).
	want := map[string]uint64{"o1": serials.Batch[0].Serials["orders"], "o2": serials.Batch[1].Serials["orders"], "o3": serials.Batch[2].Serials["orders"]}
	var last uint64
	for len(want) > 0 {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("waiting for %v: %v", want, err)
		}
		if e.Channel != "orders" {
			continue
		}
		s, ok := want[e.Event]
		if !ok || e.Serial != s || e.Serial <= last {
			t.Fatalf("got %s serial %d after serial %d, want one of %v", e.Event, e.Serial, last, want)
		}
		delete(want, e.Event)
		last = e.Serial
	}
	p.ExpectNothing(quiet) // the retry delivered nothing new
}

func TestRESTQueriesOfDisabledApp(t *testing.T) {
	h := testenv.Herald(t)
	k, s := newApp(t, h, "off", nil)
	if code := h.Admin(t, "PATCH", "/admin/v1/apps/off", map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("disable = %d", code)
	}
	requests := []struct{ method, path, body string }{
		{"GET", "/apps/off/channels", ""},
		{"GET", "/apps/off/channels/c", ""},
		{"GET", "/apps/off/channels/presence-c/users", ""},
		{"POST", "/apps/off/batch_events", `{"batch":[{"name":"e","data":"d","channel":"c"}]}`},
		{"POST", "/apps/off/users/u/terminate_connections", `{}`},
	}
	for _, r := range requests {
		// The change reaches the API's config cache through NATS.
		testinfra.WaitUntilWithin(t, r.method+" "+r.path+" refused on a disabled app", appChangeDeadline, func() bool {
			status, body := testenv.SignedRequest(t, r.method, h.URL(), r.path, k, s, nil, []byte(r.body))
			if status == 403 && !strings.Contains(string(body), "app_disabled") {
				t.Fatalf("%s %s: %s", r.method, r.path, body)
			}
			return status == 403
		})
	}
	status, _ := testenv.SignedRequest(t, "GET", h.URL(), "/apps/nope/channels", k, s, nil, nil)
	if status != 404 {
		t.Fatalf("unknown app = %d", status)
	}
	status, _ = testenv.SignedRequest(t, "GET", h.URL(), "/apps/app-id/channels", key, "wrong", nil, nil)
	if status != 401 {
		t.Fatalf("wrong secret = %d", status)
	}
	// One app's key never reads another app's channels.
	status, _ = testenv.SignedRequest(t, "GET", h.URL(), "/apps/app-id/channels", k, s, nil, nil)
	if status != 401 {
		t.Fatalf("another app's key = %d", status)
	}
}
