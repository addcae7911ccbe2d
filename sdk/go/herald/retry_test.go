package herald_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
)

// script is a fake Herald answering a scripted list of statuses, then
// 200; it records when each request came.
type script struct {
	mu         sync.Mutex
	statuses   []int
	retryAfter string
	times      []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	if n < len(s.statuses) {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.statuses[n])
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"try again"}}`))
		return
	}
	_, _ = w.Write([]byte(`{"channels":{},"serials":{"a":1}}`))
}

func (s *script) requests() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

func scriptClient(t *testing.T, s *script, policy herald.RetryPolicy) *herald.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := herald.New(herald.Config{AppID: "a", Key: "k", Secret: "s", BaseURL: srv.URL, Retry: policy})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fast keeps the backoff waits short.
var fast = herald.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		call     func(context.Context, *herald.Client) error
		requests int
		wantErr  bool
	}{
		{"read retried until it succeeds", []int{503, 502, 500}, channels, 4, false},
		{"read gives up after MaxAttempts", []int{503, 503, 503, 503, 503}, channels, 4, true},
		{"a 400 is not retried", []int{400}, channels, 1, true},
		{"publish without key not retried", []int{503}, publish(), 1, true},
		{"publish with key retried", []int{503, 429}, publish(herald.WithIdempotencyKey("k1")), 3, false},
		{"batch with every item keyed retried", []int{503}, batch("x", "y"), 2, false},
		{"batch with an item unkeyed not retried", []int{503}, batch("x", ""), 1, true},
		{"terminate retried", []int{503}, func(ctx context.Context, c *herald.Client) error {
			return c.TerminateUserConnections(ctx, "u")
		}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{statuses: tt.statuses}
			err := tt.call(context.Background(), scriptClient(t, s, fast))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if n := len(s.requests()); n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func channels(ctx context.Context, c *herald.Client) error {
	_, err := c.Channels(ctx, "")
	return err
}

func publish(opts ...herald.TriggerOption) func(context.Context, *herald.Client) error {
	return func(ctx context.Context, c *herald.Client) error {
		_, err := c.Trigger(ctx, []string{"a"}, "e", "d", opts...)
		return err
	}
}

func batch(keys ...string) func(context.Context, *herald.Client) error {
	return func(ctx context.Context, c *herald.Client) error {
		events := make([]herald.Event, len(keys))
		for i, k := range keys {
			events[i] = herald.Event{Channel: "a", Name: "e", Data: "d", IdempotencyKey: k}
		}
		_, err := c.TriggerBatch(ctx, events)
		return err
	}
}

func TestRetryAfterIsWaited(t *testing.T) {
	s := &script{statuses: []int{503}, retryAfter: "1"}
	if err := channels(context.Background(), scriptClient(t, s, fast)); err != nil {
		t.Fatal(err)
	}
	times := s.requests()
	if len(times) != 2 {
		t.Fatalf("%d requests, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Fatalf("retried after %s, before the Retry-After of 1 s", gap)
	}
}

func TestRetryAfterBeyondMaxDelayReturnsAtOnce(t *testing.T) {
	s := &script{statuses: []int{429}, retryAfter: "3600"}
	err := channels(context.Background(), scriptClient(t, s, fast))
	var he *herald.Error
	if !errors.As(err, &he) || he.Status != 429 || he.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want a 429 with RetryAfter 1h", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	s := &script{statuses: []int{503}, retryAfter: "2"}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := channels(ctx, scriptClient(t, s, fast))
	if err == nil {
		t.Fatal("no error after the context was cancelled")
	}
	if n := len(s.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestErrorOfANonJSONAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, err := herald.New(herald.Config{AppID: "a", Key: "k", Secret: "s", BaseURL: srv.URL, Retry: herald.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Channels(context.Background(), "")
	var he *herald.Error
	if !errors.As(err, &he) || he.Status != 502 || he.Code != herald.CodeUnavailable || he.Message != "bad gateway" || !errors.Is(err, herald.ErrUnavailable) {
		t.Fatalf("err = %#v", err)
	}
}

func TestHTTPClientTimeoutIsRetried(t *testing.T) {
	const clientTimeout = 100 * time.Millisecond
	var mu sync.Mutex
	n := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			<-release // answered after the client gave up
		}
		_, _ = w.Write([]byte(`{"channels":{}}`))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c, err := herald.New(herald.Config{AppID: "a", Key: "k", Secret: "s", BaseURL: srv.URL, Retry: fast,
		HTTPClient: &http.Client{Timeout: clientTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Channels(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestNetworkErrorLeavesTheSignatureOut(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	c, err := herald.New(herald.Config{AppID: "a", Key: "k", Secret: "s", BaseURL: srv.URL, Retry: herald.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Channels(context.Background(), "")
	if err == nil || strings.Contains(err.Error(), "auth_signature") {
		t.Fatalf("err = %v", err)
	}
}
