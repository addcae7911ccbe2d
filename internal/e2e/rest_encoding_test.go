package e2e_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/sdk/go/herald"
)

// Path parameters are decoded once: the Go SDK escapes a user id and the
// server terminates that user, not the one a second decoding makes.
func TestRESTTerminateEscapedUserIDs(t *testing.T) {
	h := testenv.Herald(t)
	client, err := herald.New(herald.Config{AppID: appID, Key: key, Secret: secret, BaseURL: h.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// "x%41" first: decoded twice it was "xA", whose connection would
	// close instead.
	ids := []string{"x%41", "xA", "50%", "a/b", "a b", "été", "a@b"}
	conns := make(map[string]*testenv.PusherClient, len(ids))
	for _, id := range ids {
		p := testenv.MustDialPusher(t, h.URL(), key)
		data, _ := json.Marshal(map[string]string{"id": id})
		p.Signin(key, secret, string(data))
		conns[id] = p
	}
	for _, id := range ids {
		if err := client.TerminateUserConnections(ctx, id); err != nil {
			t.Fatalf("terminate %q: %v", id, err)
		}
		if code := conns[id].ExpectClose(); code != 4009 {
			t.Fatalf("user %q closed with %d", id, code)
		}
	}
}

// GET /channels/{name} reads the name decoded once: a%2540b is the
// (invalid) name a%40b, not a@b.
func TestRESTChannelPathDecodedOnce(t *testing.T) {
	h := testenv.Herald(t)
	cases := []struct {
		sent, signed string
		status       int
	}{
		{"a%40b", "a@b", 200},
		{"a%2540b", "a%40b", 400},
		{"cache-%C3%A9", "cache-é", 400}, // not a channel name character
	}
	for _, tc := range cases {
		t.Run(tc.sent, func(t *testing.T) {
			q := nodeQuery("GET", "/apps/"+appID+"/channels/"+tc.signed, "")
			code, body := testenv.Do(t, http.DefaultClient, mustRequest(t, "GET", h.URL()+"/apps/"+appID+"/channels/"+tc.sent+"?"+q, nil))
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
		})
	}
}

// nodeQuery is the query the official Node SDK (pusher@5) sends: its
// pairs sorted, values unescaped, and the signature last. extra is
// "key=value&…", unescaped as well.
func nodeQuery(method, path, extra string) string {
	pairs := []string{"auth_key=" + key, "auth_timestamp=" + strconv.FormatInt(time.Now().Unix(), 10), "auth_version=1.0"}
	if extra != "" {
		pairs = append(pairs, strings.Split(extra, "&")...)
	}
	slices.Sort(pairs)
	q := strings.Join(pairs, "&")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + "\n" + path + "\n" + q))
	return q + "&auth_signature=" + hex.EncodeToString(mac.Sum(nil))
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A ";" in a query value, as the Node SDK sends it, is part of the value
// for the signature and the parameter alike.
func TestRESTSemicolonInQuery(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	mustSucceed(t, p.Subscribe("team;1-chat", key, "", ""))
	mustSucceed(t, p.Subscribe("team;2-chat", key, "", ""))
	path := "/apps/" + appID + "/channels"
	code, body := testenv.Do(t, http.DefaultClient, mustRequest(t, "GET", h.URL()+path+"?"+nodeQuery("GET", path, "filter_by_prefix=team;1"), nil))
	if code != 200 || strings.TrimSpace(string(body)) != `{"channels":{"team;1-chat":{}}}` {
		t.Fatalf("list = %d %s", code, body)
	}
}

// cachedData is the data of the channel's cached event.
func cachedData(t *testing.T, h *testenv.HeraldEnv, channel string) string {
	t.Helper()
	path := "/apps/" + appID + "/channels/" + channel
	code, body := testenv.Do(t, http.DefaultClient, mustRequest(t, "GET", h.URL()+path+"?"+nodeQuery("GET", path, "info=cache"), nil))
	var got struct {
		Cache struct{ Data string }
	}
	if err := json.Unmarshal(body, &got); code != 200 || err != nil {
		t.Fatalf("cache info = %d %s", code, body)
	}
	return got.Cache.Data
}

// Concurrent publishes to one cache channel leave the event the stream
// ordered last cached.
func TestRESTCacheKeepsLatestOfConcurrentPublishes(t *testing.T) {
	h := testenv.Herald(t)
	const rounds, writers = 5, 8
	for round := range rounds {
		channel := fmt.Sprintf("cache-race-%d", round)
		var mu sync.Mutex
		var best uint64
		var bestData string
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := strconv.Itoa(w)
				s, err := publishSerial(h.URL(), channel, data)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if s > best {
					best, bestData = s, data
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := cachedData(t, h, channel); got != bestData {
			t.Fatalf("round %d: cached %q, want %q (serial %d)", round, got, bestData, best)
		}
	}
}

// publishSerial publishes data to channel and returns its serial; it may
// run outside the test's goroutine.
func publishSerial(base, channel, data string) (uint64, error) {
	body, _ := json.Marshal(map[string]string{"name": "e", "data": data, "channel": channel})
	req, err := http.NewRequest("POST", base+"/apps/"+appID+"/events", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(key, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var out struct{ Serials map[string]uint64 }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		return 0, fmt.Errorf("publish = %d: %v", res.StatusCode, err)
	}
	return out.Serials[channel], nil
}

// An idempotent retry, by header or body key, leaves the cache alone: its
// data was never delivered.
func TestRESTCacheIgnoresDuplicates(t *testing.T) {
	h := testenv.Herald(t)
	publish := func(body, header string) {
		t.Helper()
		endpoint := "/events"
		if strings.HasPrefix(body, `{"batch"`) {
			endpoint = "/batch_events"
		}
		req := mustRequest(t, "POST", h.URL()+"/apps/"+appID+endpoint, []byte(body))
		req.SetBasicAuth(key, secret)
		if header != "" {
			req.Header.Set("Idempotency-Key", header)
		}
		if code, b := testenv.Do(t, http.DefaultClient, req); code != 200 {
			t.Fatalf("publish = %d %s", code, b)
		}
	}
	publish(`{"name":"e","data":"first","channel":"cache-h"}`, "k1")
	publish(`{"name":"e","data":"retry","channel":"cache-h"}`, "k1")
	if got := cachedData(t, h, "cache-h"); got != "first" {
		t.Fatalf("header retry: cached %q", got)
	}
	publish(`{"name":"e","data":"first","channel":"cache-b","idempotency_key":"k2"}`, "")
	publish(`{"name":"e","data":"retry","channel":"cache-b","idempotency_key":"k2"}`, "")
	if got := cachedData(t, h, "cache-b"); got != "first" {
		t.Fatalf("body retry: cached %q", got)
	}
	publish(`{"batch":[{"name":"e","data":"first","channel":"cache-i","idempotency_key":"k3"}]}`, "")
	publish(`{"batch":[{"name":"e","data":"retry","channel":"cache-i","idempotency_key":"k3"}]}`, "")
	if got := cachedData(t, h, "cache-i"); got != "first" {
		t.Fatalf("batch retry: cached %q", got)
	}
}

// The body's idempotency_key is signed: a captured request replayed with
// its Idempotency-Key header dropped or changed is still delivered once.
func TestRESTIdempotencyKeyInBody(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	mustSucceed(t, p.Subscribe("orders", key, "", ""))
	path := "/apps/" + appID + "/events"
	body := []byte(`{"name":"o","data":"1","channel":"orders","idempotency_key":"order-7"}`)
	captured := h.URL() + path + "?" + nodeQuery("POST", path, "body_md5="+channels.BodyMD5(body))
	send := func(header string) (int, string) {
		req := mustRequest(t, "POST", captured, body)
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Idempotency-Key", header)
		}
		code, b := testenv.Do(t, http.DefaultClient, req)
		return code, string(b)
	}
	code1, first := send("order-7")
	code2, replay := send("")
	if code1 != 200 || code2 != 200 || first != replay {
		t.Fatalf("publish %d %s, replay %d %s", code1, first, code2, replay)
	}
	code, b := send("another")
	var e apiError
	if err := json.Unmarshal([]byte(b), &e); code != 400 || err != nil || e.Error.Field != "idempotency_key" {
		t.Fatalf("differing keys = %d %s", code, b)
	}
	p.Expect("o", "orders")
	p.ExpectNothing(quiet)
}
