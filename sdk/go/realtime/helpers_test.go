package realtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
	"github.com/heraldhq/herald/sdk/go/internal/sign"
	"golang.org/x/crypto/nacl/secretbox"
)

func TestMain(m *testing.M) { os.Exit(heraldtest.Main(m)) }

// waitFor bounds every wait of the integration tests.
const waitFor = 20 * time.Second

var testMasterKey = []byte("0123456789abcdef0123456789abcdef")

// env is a running herald and an app of it with client events on.
type env struct {
	t   *testing.T
	srv *heraldtest.Server
	app heraldtest.App
	// url is srv.URL, read once: Restart rewrites it (to the same value)
	// without a lock while the publisher goroutine posts.
	url string
}

func newEnv(t *testing.T, herald ...string) env {
	t.Helper()
	srv := heraldtest.Start(t, herald...)
	app, err := srv.NewApp(map[string]any{"client_events": true})
	if err != nil {
		t.Fatal(err)
	}
	return env{t: t, srv: srv, app: app, url: srv.URL}
}

// config signs channels and users as a backend would.
func (e env) config() Config {
	return Config{
		URL: e.url,
		Key: e.app.Key,
		Authorizer: func(_ context.Context, socketID, channel string) (AuthResponse, error) {
			var a AuthResponse
			if isPresence(channel) {
				a.ChannelData = `{"user_id":"u-` + socketID + `","user_info":{"name":"go"}}`
			}
			if isEncrypted(channel) {
				key, _ := MasterKeyEncryption(testMasterKey)(context.Background(), channel)
				a.SharedSecret = base64.StdEncoding.EncodeToString(key)
			}
			a.Auth = sign.ChannelAuth(e.app.Key, e.app.Secret, socketID, channel, a.ChannelData)
			return a, nil
		},
		UserAuthenticator: func(_ context.Context, socketID string) (UserAuth, error) {
			data := `{"id":"user-1"}`
			return UserAuth{Auth: sign.UserAuth(e.app.Key, e.app.Secret, socketID, data), UserData: data}, nil
		},
		BackoffMin:  50 * time.Millisecond,
		BackoffMax:  500 * time.Millisecond,
		PongTimeout: 2 * time.Second,
	}
}

func (e env) dial(cfg Config) *Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// post sends a signed tenant API request and decodes the answer.
func (e env) post(path string, body, out any) error {
	b, _ := json.Marshal(body)
	q := sign.Request(e.app.Key, e.app.Secret, http.MethodPost, path, nil, b, time.Now())
	resp, err := http.Post(e.url+path+"?"+q.Encode(), "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// history lists a channel's serials, oldest first.
func (e env) history(channel string) ([]uint64, error) {
	path := "/apps/" + e.app.ID + "/channels/" + channel + "/messages"
	q := sign.Request(e.app.Key, e.app.Secret, http.MethodGet, path, url.Values{"direction": {"forwards"}}, nil, time.Now())
	resp, err := http.Get(e.url + path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Items []struct {
			Serial uint64 `json:"serial"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("history: %d %s", resp.StatusCode, raw)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	serials := make([]uint64, len(out.Items))
	for i, it := range out.Items {
		serials[i] = it.Serial
	}
	return serials, nil
}

// trigger publishes through the REST API and returns the serial.
func (e env) trigger(channel, event, data string) (uint64, error) {
	var out struct {
		Serials map[string]uint64 `json:"serials"`
	}
	err := e.post("/apps/"+e.app.ID+"/events", map[string]any{"name": event, "channel": channel, "data": data}, &out)
	return out.Serials[channel], err
}

// token mints a platform token through the API (ttl 0: the default).
func (e env) token(user string, caps map[string][]string, ttl time.Duration) (string, error) {
	body := map[string]any{"user_id": user, "capabilities": caps}
	if ttl > 0 {
		body["ttl_s"] = int64(ttl / time.Second)
	}
	var out struct {
		Token string `json:"token"`
	}
	err := e.post("/apps/"+e.app.ID+"/tokens", body, &out)
	return out.Token, err
}

// encrypt seals data for a private-encrypted channel as a publisher does.
func encrypt(channel, data string) string {
	key, _ := MasterKeyEncryption(testMasterKey)(context.Background(), channel)
	var k [32]byte
	copy(k[:], key)
	var nonce [24]byte
	_, _ = rand.Read(nonce[:])
	box := secretbox.Seal(nil, []byte(data), &nonce, &k)
	b, _ := json.Marshal(map[string]string{
		"nonce":      base64.StdEncoding.EncodeToString(nonce[:]),
		"ciphertext": base64.StdEncoding.EncodeToString(box),
	})
	return string(b)
}

// next reads the next message of s that is not channel-level.
func next(t *testing.T, s *Subscription) Message {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("%s closed: %v", s.Name(), s.Err())
			}
			if m.Event == EventResumed || m.Event == EventMemberAdded || m.Event == EventMemberRemoved {
				continue
			}
			return m
		case <-timer.C:
			t.Fatalf("no message on %s within %s", s.Name(), waitFor)
		}
	}
}

// waitState reads c's state changes until want.
func waitState(t *testing.T, c *Client, want State) StateChange {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case sc, ok := <-c.States():
			if !ok {
				t.Fatalf("states closed before %s", want)
			}
			if sc.Current == want {
				return sc
			}
		case <-timer.C:
			t.Fatalf("no %s within %s (now %s)", want, waitFor, c.State())
		}
	}
}

// settleGoroutines waits until at most n goroutines run: the client's
// own leak check (idle HTTP connections of the test's requests aside).
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func numGoroutines() int { return runtime.NumGoroutine() }
