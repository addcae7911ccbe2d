package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/heraldhq/herald/internal/testinfra"
)

// WebhookRequest is one request a WebhookReceiver accepted.
type WebhookRequest struct {
	At       time.Time
	Delivery string
	Body     string
	Events   []pusher.WebhookEvent
}

// WebhookReceiver is a webhook endpoint for tests (docs/webhooks.md):
// it checks every request it answers with pusher-http-go's webhook
// validation and Herald's format, and answers what Answer says for the
// n-th request (from 1): Answer writes an answer of its own and returns
// false, or returns true for the checks and a 200.
type WebhookReceiver struct {
	URL    string
	Answer func(n int, w http.ResponseWriter) bool

	tb     testing.TB
	client pusher.Client
	srv    *httptest.Server
	mu     sync.Mutex
	n      int
	got    []WebhookRequest
	errs   []string
}

// NewWebhookReceiver serves on a loopback port until tb ends; it
// validates signatures with the app's key and secret.
func NewWebhookReceiver(tb testing.TB, appID, key, secret string, answer func(n int, w http.ResponseWriter) bool) *WebhookReceiver {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return NewWebhookReceiverOn(tb, ln, appID, key, secret, answer)
}

// NewWebhookReceiverOn is NewWebhookReceiver on ln.
func NewWebhookReceiverOn(tb testing.TB, ln net.Listener, appID, key, secret string, answer func(n int, w http.ResponseWriter) bool) *WebhookReceiver {
	tb.Helper()
	r := &WebhookReceiver{tb: tb, Answer: answer, client: pusher.Client{AppID: appID, Key: key, Secret: secret}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	_ = r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
	tb.Cleanup(r.srv.Close)
	r.URL = r.srv.URL
	return r
}

// UserAgentPrefix starts every webhook's User-Agent.
const userAgentPrefix = "Herald-Webhooks/"

func (r *WebhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.n++
	n := r.n
	answer := r.Answer
	r.mu.Unlock()
	if answer != nil && !answer(n, w) {
		return
	}
	var problems []string
	hook, err := r.client.Webhook(req.Header, body)
	if err != nil {
		problems = append(problems, "pusher-http-go refused the webhook: "+err.Error())
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		problems = append(problems, "Content-Type "+ct)
	}
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, userAgentPrefix) {
		problems = append(problems, "User-Agent "+ua)
	}
	if !strings.HasPrefix(req.Header.Get("X-Herald-Delivery"), "whd_") {
		problems = append(problems, "X-Herald-Delivery "+req.Header.Get("X-Herald-Delivery"))
	}
	var shape struct {
		TimeMS *int64            `json:"time_ms"`
		Events []json.RawMessage `json:"events"`
	}
	if json.Unmarshal(body, &shape) != nil || shape.TimeMS == nil || len(shape.Events) == 0 {
		problems = append(problems, "body "+string(body))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, problems...)
	if hook != nil {
		r.got = append(r.got, WebhookRequest{At: time.Now(), Delivery: req.Header.Get("X-Herald-Delivery"),
			Body: string(body), Events: hook.Events})
	}
	w.WriteHeader(http.StatusOK)
}

// SetAnswer replaces Answer.
func (r *WebhookReceiver) SetAnswer(answer func(n int, w http.ResponseWriter) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Answer = answer
}

// Requests lists the requests accepted so far.
func (r *WebhookReceiver) Requests() []WebhookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]WebhookRequest(nil), r.got...)
}

// Events lists the events accepted, in order, counting a delivery
// received more than once (same X-Herald-Delivery and body) once. A
// delivery id seen with two bodies is an error.
func (r *WebhookReceiver) Events() []pusher.WebhookEvent {
	seen := map[string]string{}
	var out []pusher.WebhookEvent
	for _, q := range r.Requests() {
		if body, ok := seen[q.Delivery]; ok {
			if body != q.Body {
				r.tb.Errorf("delivery %s sent with two bodies:\n%s\n%s", q.Delivery, body, q.Body)
			}
			continue
		}
		seen[q.Delivery] = q.Body
		out = append(out, q.Events...)
	}
	return out
}

// WaitEvents waits until the receiver has accepted n events.
func (r *WebhookReceiver) WaitEvents(n int) []pusher.WebhookEvent {
	r.tb.Helper()
	testinfra.WaitUntil(r.tb, fmt.Sprintf("%d webhook events", n), func() bool { return len(r.Events()) >= n })
	return r.Events()
}

// Check reports every request that failed a check.
func (r *WebhookReceiver) Check() {
	r.tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.errs {
		r.tb.Error(p)
	}
}

// WebhookEventsByChannel groups events by channel, in order, each as its
// name, and ":user_id" when it has one.
func WebhookEventsByChannel(evs []pusher.WebhookEvent) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		out[e.Channel] = append(out[e.Channel], WebhookEventKey(e.Name, e.UserID))
	}
	return out
}

// WebhookEventKey is how WebhookEventsByChannel shows an event.
func WebhookEventKey(name, userID string) string {
	if userID == "" {
		return name
	}
	return name + ":" + userID
}
