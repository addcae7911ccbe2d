package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// History timings of the crash test. The batch wait keeps up to that
// long of messages delivered to the writer and not yet stored when the
// process is killed, and the ack wait keeps them from being delivered
// again until well after the restart: the window in which history read
// only from PostgreSQL has a hole. Both are far above the few seconds a
// restart takes, so the window is there on a loaded machine too.
const (
	crashAckWait   = 12 * time.Second
	crashBatchWait = 6 * time.Second
	// crashPublishFor is how long the publishers run before the kill.
	crashPublishFor = 1500 * time.Millisecond
	// crashPageSize is small: many pages, many cursors.
	crashPageSize = 7
	// crashCatchUpBound is a generous bound on the writer storing
	// everything after the restart: its batch is delivered again after
	// the ack wait.
	crashCatchUpBound = 2*crashAckWait + 30*time.Second
)

var crashChannels = []string{"crash-a", "crash-b"}

// TestHistoryCompleteRightAfterSIGKILL: REST publishes run on two
// channels while the process is SIGKILLed; right after the restart, paging
// forward from the first serial (and back from the newest) shows every
// acknowledged message exactly once, in order, although the writer has
// not stored them all yet; the writer then stores them within seconds of
// its ack wait.
func TestHistoryCompleteRightAfterSIGKILL(t *testing.T) {
	// Parallel: it runs processes of its own and spends most of its time
	// waiting on them (timeouts, restarts), so it overlaps with the other
	// long e2e tests.
	t.Parallel()
	bin := testenv.BuildHerald(t)
	dataDir, _ := devDataDir(t)
	flags := []string{"--history-ack-wait", crashAckWait.String(), "--history-batch-wait", crashBatchWait.String()}
	p, _ := startDev(t, bin, dataDir, flags...)

	// One sequential publisher per channel: its acknowledged serials are
	// in order, and at most its one publish in flight at the kill may be
	// stored without having been acknowledged.
	acked := make([][]uint64, len(crashChannels))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, ch := range crashChannels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				serial, err := crashPublish(p.URL(), ch, fmt.Sprintf(`{"n":%d}`, n))
				if err != nil {
					return // the process is gone
				}
				acked[i] = append(acked[i], serial)
			}
		}()
	}
	time.Sleep(crashPublishFor)
	_ = p.Stop(t, syscall.SIGKILL)
	close(stop)
	wg.Wait()
	var newest uint64
	for i, ch := range crashChannels {
		if len(acked[i]) < 10 {
			t.Fatalf("only %d publishes acknowledged on %s before the kill", len(acked[i]), ch)
		}
		newest = max(newest, acked[i][len(acked[i])-1])
		t.Logf("%s: %d publishes acknowledged, serials %d…%d", ch, len(acked[i]), acked[i][0], acked[i][len(acked[i])-1])
	}

	restarted := time.Now()
	p, took := startDev(t, bin, dataDir, flags...)
	t.Logf("restart after SIGKILL: %s", took)
	mark := storedThrough(t, p.URL())
	t.Logf("right after the restart the writer has stored through serial %d of %d", mark, newest)
	if mark >= newest {
		t.Fatalf("the writer had stored everything (through %d) before the first read: no window to test", mark)
	}
	for i, ch := range crashChannels {
		forwards := pageHistory(t, p.URL(), ch, "forwards", acked[i][0]-1)
		checkHistory(t, ch+" forwards", forwards, acked[i])
		backwards := pageHistory(t, p.URL(), ch, "backwards", 0)
		slices.Reverse(backwards)
		checkHistory(t, ch+" backwards", backwards, acked[i])
	}

	// The writer's held batch is delivered again after the ack wait, not
	// after a fixed 30 s.
	testinfra.WaitUntilWithin(t, "the writer to store every acknowledged message", crashCatchUpBound, func() bool {
		return storedThrough(t, p.URL()) >= newest
	})
	t.Logf("writer caught up %s after the restart began (ack wait %s)", time.Since(restarted).Round(10*time.Millisecond), crashAckWait)
	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("herald dev exit after SIGINT: %v\n%s", err, p.Stderr())
	}
}

// checkHistory fails unless got is want, each once and in order, followed
// at most by the one publish in flight at the kill (stored, never
// acknowledged).
func checkHistory(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) || len(got) > len(want)+1 ||
		(len(got) == len(want)+1 && got[len(want)] <= want[len(want)-1]) {
		var missing []uint64
		for _, s := range want {
			if !slices.Contains(got, s) {
				missing = append(missing, s)
			}
		}
		t.Fatalf("%s: %d messages, want the %d acknowledged ones in order; missing %v\n got %v\nwant %v",
			what, len(got), len(want), missing, got, want)
	}
}

// crashPublish publishes one event over REST and returns its serial; an
// error means the process did not acknowledge it.
func crashPublish(baseURL, channel, data string) (uint64, error) {
	body, _ := json.Marshal(map[string]any{"name": "tick", "data": data, "channels": []string{channel}})
	path := "/apps/" + platform.DefaultDevAppID + "/events"
	q := signedQuery(http.MethodPost, path, url.Values{}, body)
	res, err := http.Post(baseURL+path+"?"+q.Encode(), "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("publish = %d: %s", res.StatusCode, b)
	}
	var out struct {
		Serials map[string]uint64 `json:"serials"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Serials[channel] == 0 {
		return 0, fmt.Errorf("publish answer %s: %v", b, err)
	}
	return out.Serials[channel], nil
}

// signedQuery adds the demo app's Pusher signature to q.
func signedQuery(method, path string, q url.Values, body []byte) url.Values {
	q.Set("auth_key", platform.DefaultDevAppKey)
	q.Set("auth_timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	q.Set("auth_version", "1.0")
	if len(body) > 0 {
		q.Set("body_md5", channels.BodyMD5(body))
	}
	q.Set("auth_signature", channels.HMACSHA256Hex(platform.DefaultDevAppSecret, channels.RequestStringToSign(method, path, q)))
	return q
}

// pageHistory pages through a channel's history with small pages,
// following the next cursor, and returns the serials in the order shown.
func pageHistory(t *testing.T, baseURL, channel, direction string, fromSerial uint64) []uint64 {
	t.Helper()
	path := "/apps/" + platform.DefaultDevAppID + "/channels/" + channel + "/messages"
	var out []uint64
	cursor := ""
	for range 10000 {
		q := url.Values{"limit": {strconv.Itoa(crashPageSize)}, "direction": {direction}}
		if fromSerial > 0 {
			q.Set("from_serial", strconv.FormatUint(fromSerial, 10))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		code, body := testenv.SignedRequest(t, http.MethodGet, baseURL, path,
			platform.DefaultDevAppKey, platform.DefaultDevAppSecret, q, nil)
		if code != http.StatusOK {
			t.Fatalf("history %s page %d = %d: %s", channel, len(out)/crashPageSize, code, body)
		}
		var page struct {
			Items []struct {
				Serial uint64 `json:"serial"`
			} `json:"items"`
			Next *string `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("history answer %s: %v", body, err)
		}
		for _, it := range page.Items {
			out = append(out, it.Serial)
		}
		if page.Next == nil {
			return out
		}
		cursor = *page.Next
	}
	t.Fatal("paging did not end")
	return nil
}

// storedThrough reads the writers' watermark from /metrics.
func storedThrough(t *testing.T, baseURL string) uint64 {
	t.Helper()
	res, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	const series = `herald_history_stored_through_serial{stream="HERALD_MSG"} `
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s%s: %v", series, v, err)
			}
			return uint64(f)
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}
