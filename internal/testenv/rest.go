package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
)

// SignedRequest sends a Pusher-signed request (docs/protocol.md,
// "Pusher compatibility") and returns the status and body.
func SignedRequest(tb testing.TB, method, baseURL, path, key, secret string, query url.Values, body []byte) (int, []byte) {
	tb.Helper()
	return SignedRequestWith(tb, http.DefaultClient, method, baseURL, path, key, secret, query, body)
}

// SignedRequestWith is SignedRequest through client (an HTTPS client, say).
func SignedRequestWith(tb testing.TB, client *http.Client, method, baseURL, path, key, secret string, query url.Values, body []byte) (int, []byte) {
	tb.Helper()
	code, _, b := SignedRequestHeader(tb, client, method, baseURL, path, key, secret, query, body)
	return code, b
}

// SignedRequestHeader is SignedRequestWith that also returns the answer's
// header (Retry-After, say).
func SignedRequestHeader(tb testing.TB, client *http.Client, method, baseURL, path, key, secret string, query url.Values, body []byte) (int, http.Header, []byte) {
	tb.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("auth_key", key)
	query.Set("auth_timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	query.Set("auth_version", "1.0")
	if len(body) > 0 {
		query.Set("body_md5", channels.BodyMD5(body))
	}
	query.Set("auth_signature", channels.HMACSHA256Hex(secret, channels.RequestStringToSign(method, path, query)))
	req, err := http.NewRequest(method, baseURL+path+"?"+query.Encode(), bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return DoHeader(tb, client, req)
}

// Do sends req with client and returns the status and the whole body;
// a transport error fails the test.
func Do(tb testing.TB, client *http.Client, req *http.Request) (int, []byte) {
	tb.Helper()
	code, _, b := DoHeader(tb, client, req)
	return code, b
}

// DoHeader is Do that also returns the answer's header.
func DoHeader(tb testing.TB, client *http.Client, req *http.Request) (int, http.Header, []byte) {
	tb.Helper()
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read response: %v", err)
	}
	return res.StatusCode, res.Header, b
}

// Trigger publishes an event through the REST API and fails the test
// unless it is accepted; it returns the serials by channel.
func Trigger(tb testing.TB, baseURL, appID, key, secret, event, data string, channelNames ...string) map[string]uint64 {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"name": event, "data": data, "channels": channelNames})
	code, resp := SignedRequest(tb, "POST", baseURL, "/apps/"+appID+"/events", key, secret, nil, body)
	if code != http.StatusOK {
		tb.Fatalf("trigger = %d: %s", code, resp)
	}
	var out struct {
		Serials map[string]uint64 `json:"serials"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		tb.Fatalf("trigger answer %s: %v", resp, err)
	}
	return out.Serials
}
