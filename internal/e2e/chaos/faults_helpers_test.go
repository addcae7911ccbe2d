package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// The harness of the fault scenarios (3 NATS, 4 PostgreSQL, 5 pressure):
// subscribers that resume after their last serial, publishers that use
// pusher-http-go unmodified and time every publish, and the figures they
// print. Names start with fault so that they stay apart from the other
// scenarios' helpers in this package.

// faultEvent is the event the publishers send.
const faultEvent = "tick"

// Timings of the harness.
const (
	// faultReconnectPause is how long a subscriber waits before dialling
	// again after a failed attempt.
	faultReconnectPause = 100 * time.Millisecond
	// faultPublishTimeout bounds one publish of a publisher: above the
	// server's own publish retries, so that what the client sees is the
	// server's answer.
	faultPublishTimeout = 15 * time.Second
	// faultDelivered bounds the wait for the last deliveries once the
	// publishers stopped.
	faultDelivered = 30 * time.Second
	// faultCatchUpWithin bounds how long history and usage take to catch up
	// once a fault has ended.
	faultCatchUpWithin = 90 * time.Second
	// faultOpTimeout bounds a topology operation (a start, a stop).
	faultOpTimeout = 3 * time.Minute
)

// faultTopology starts the production topology with the test timings and
// the modifications given.
func faultTopology(t *testing.T, modify ...func(*topology.Options)) *topology.Topology {
	t.Helper()
	t.Logf("load average before start: %s (long versions: %v)", load(), long())
	return testenv.Topology(t, modify...)
}

// faultSample is one timed publish.
type faultSample struct {
	at      time.Time
	latency time.Duration
	err     string // "" when acknowledged
	id      string
	channel string
}

// faultTraffic is subscribers and publishers running against a topology.
type faultTraffic struct {
	t       *testing.T
	top     *topology.Topology
	app     topology.App
	serials *topology.Serials

	mu      sync.Mutex
	closes  map[uint16]int
	samples []faultSample
	// received counts the publish ids subscribers got, over every
	// subscriber.
	received map[string]int
	// subscribers lists each subscriber's name and channel by the URL it
	// connects to.
	subscribers map[string][]faultSub

	published atomic.Int64
	failed    atomic.Int64

	subs, pubs       errgroup.Group
	stopSubs, stopPu context.CancelFunc
	pubCtx, subCtx   context.Context
}

// newFaultTraffic returns traffic with nobody running yet; it stops
// everything at cleanup.
func newFaultTraffic(t *testing.T, top *topology.Topology, app topology.App) *faultTraffic {
	tr := &faultTraffic{t: t, top: top, app: app, serials: topology.NewSerials(),
		closes: map[uint16]int{}, received: map[string]int{}, subscribers: map[string][]faultSub{}}
	tr.subCtx, tr.stopSubs = context.WithCancel(context.Background())
	tr.pubCtx, tr.stopPu = context.WithCancel(context.Background())
	t.Cleanup(func() { tr.stopPu(); tr.stopSubs(); _ = tr.pubs.Wait(); _ = tr.subs.Wait() })
	return tr
}

// subscribe connects n subscribers of ch to baseURL (the balancer or one
// gateway), each subscribed before it returns; they stay subscribed,
// resuming after their last serial when their connection ends.
func (tr *faultTraffic) subscribe(baseURL, ch string, n int) {
	tr.t.Helper()
	for i := range n {
		name := fmt.Sprintf("%s-%s-sub-%d", baseURL, ch, i)
		tr.serials.Subscribed(name, ch, 0)
		tr.mu.Lock()
		tr.subscribers[baseURL] = append(tr.subscribers[baseURL], faultSub{name: name, channel: ch})
		tr.mu.Unlock()
		first := make(chan error, 1)
		tr.subs.Go(func() error { tr.keepSubscribed(baseURL, name, ch, first); return nil })
		if err := <-first; err != nil {
			tr.t.Fatalf("%s: first subscribe: %v", name, err)
		}
	}
}

// faultSub is a subscriber's name and channel.
type faultSub struct{ name, channel string }

// reached reports whether every subscriber connected to baseURL has
// received a serial at or above target on its channel (or its channel's
// last acknowledged one, if lower).
func (tr *faultTraffic) reached(baseURL string, target uint64) bool {
	tr.mu.Lock()
	subs := slices.Clone(tr.subscribers[baseURL])
	tr.mu.Unlock()
	for _, s := range subs {
		if tr.serials.Last(s.name, s.channel) < min(target, tr.serials.LastAcked(s.channel)) {
			return false
		}
	}
	return true
}

// keepSubscribed keeps name subscribed to ch until the subscribers stop.
func (tr *faultTraffic) keepSubscribed(baseURL, name, ch string, first chan<- error) {
	for tr.subCtx.Err() == nil {
		p, err := faultDialSubscribe(tr.t, baseURL, tr.app.Key, ch, tr.serials.Last(name, ch))
		if first != nil {
			first <- err
			first = nil
			if err != nil {
				return
			}
		}
		if err != nil {
			time.Sleep(faultReconnectPause)
			continue
		}
		tr.read(p, name, ch)
	}
}

// read records the subscriber's events until its connection ends.
func (tr *faultTraffic) read(p *testenv.PusherClient, name, ch string) {
	defer p.WS().Close()
	stop := context.AfterFunc(tr.subCtx, func() { _ = p.WS().Close() })
	defer stop()
	for {
		e, err := p.Next()
		if err != nil {
			code := uint16(0)
			var cl testenv.Closed
			if errors.As(err, &cl) {
				code = cl.Code
			}
			if tr.subCtx.Err() == nil {
				tr.mu.Lock()
				tr.closes[code]++
				tr.mu.Unlock()
			}
			return
		}
		if e.Event != faultEvent || e.Channel != ch {
			continue
		}
		tr.serials.Received(name, ch, e.Serial)
		var d struct{ ID string }
		if faultDecode(e, &d) == nil {
			tr.mu.Lock()
			tr.received[d.ID]++
			tr.mu.Unlock()
		}
	}
}

// faultDecode decodes an event's data.
func faultDecode(e testenv.Event, v any) error { return json.Unmarshal([]byte(e.Data), v) }

// faultDialSubscribe connects to baseURL and subscribes to ch, resuming
// after serial after when it is not 0; the replay comes after the
// subscription's answer and is left for the reader.
func faultDialSubscribe(t *testing.T, baseURL, key, ch string, after uint64) (*testenv.PusherClient, error) {
	p, err := testenv.DialPusher(t, baseURL, key, "", nil)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"channel": ch}
	if after > 0 {
		data["resume_from"] = after
	}
	b, _ := json.Marshal(map[string]any{"event": protocol.EventSubscribe, "data": data})
	if err := p.WS().WriteText(string(b)); err != nil {
		_ = p.WS().Close()
		return nil, err
	}
	e, err := p.Next()
	if err != nil {
		_ = p.WS().Close()
		return nil, err
	}
	if e.Event != protocol.EventSubscriptionSucceeded {
		_ = p.WS().Close()
		return nil, fmt.Errorf("subscribe answered %s: %s", e.Event, e.Raw)
	}
	return p, nil
}

// publish starts n publishers on ch through the balancer, each pausing
// every between publishes, with payloads of padding bytes more than the
// id.
func (tr *faultTraffic) publish(ch string, n int, every time.Duration, padding int) {
	for i := range n {
		client := tr.sdk()
		name := fmt.Sprintf("%s-pub-%d", ch, i)
		pad := strings.Repeat("x", padding)
		tr.pubs.Go(func() error {
			for j := 0; tr.pubCtx.Err() == nil; j++ {
				tr.trigger(client, ch, fmt.Sprintf("%s-%d", name, j), pad)
				time.Sleep(every)
			}
			return nil
		})
	}
}

// trigger publishes one message and records its outcome.
func (tr *faultTraffic) trigger(client *pusher.Client, ch, id, pad string) {
	began := time.Now()
	err := client.Trigger(ch, faultEvent, map[string]string{"id": id, "pad": pad})
	tr.record(faultSample{at: began, latency: time.Since(began), id: id, channel: ch}, err)
}

// record records a publish's outcome.
func (tr *faultTraffic) record(s faultSample, err error) {
	if err != nil {
		s.err = err.Error()
		tr.failed.Add(1)
	} else {
		tr.published.Add(1)
	}
	tr.mu.Lock()
	tr.samples = append(tr.samples, s)
	tr.mu.Unlock()
}

// sdk returns a pusher-http-go client of the app on the balancer whose
// transport records the serials of Herald's answers (the SDK returns
// none).
func (tr *faultTraffic) sdk() *pusher.Client {
	u, err := url.Parse(tr.top.URL())
	if err != nil {
		tr.t.Fatal(err)
	}
	return &pusher.Client{
		AppID: tr.app.ID, Key: tr.app.Key, Secret: tr.app.Secret, Host: u.Host,
		HTTPClient: &http.Client{Timeout: faultPublishTimeout, Transport: fleet.RecordSerials(http.DefaultTransport, tr.serials.Acked)},
	}
}

// stopPublishing stops the publishers and waits for them.
func (tr *faultTraffic) stopPublishing() {
	tr.stopPu()
	_ = tr.pubs.Wait()
}

// waitDelivered waits until every subscriber has every acknowledged
// serial, then stops the subscribers and checks the serials: none lost,
// none twice, in order.
func (tr *faultTraffic) waitDelivered() {
	tr.t.Helper()
	deadline := time.Now().Add(faultDelivered)
	for tr.serials.Missing() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	tr.stopSubs()
	_ = tr.subs.Wait()
	if err := tr.serials.Check(); err != nil {
		tr.t.Fatal(err)
	}
}

// faultWindow summarizes the publishes that began in [from, to).
type faultWindow struct {
	published, failed int
	p50, p99, max     time.Duration
	// errors counts the failures by message.
	errors map[string]int
	// failedMax is the longest a failed publish took to fail.
	failedMax time.Duration
}

// window summarizes the publishes that began in [from, to).
func (tr *faultTraffic) window(from, to time.Time) faultWindow {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	w := faultWindow{errors: map[string]int{}}
	var lat []time.Duration
	for _, s := range tr.samples {
		if s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		if s.err != "" {
			w.failed++
			w.errors[s.err]++
			w.failedMax = max(w.failedMax, s.latency)
			continue
		}
		w.published++
		lat = append(lat, s.latency)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		w.p50, w.p99, w.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return w
}

// String is the window's figures.
func (w faultWindow) String() string {
	s := fmt.Sprintf("%d acknowledged, %d failed, latency p50 %s p99 %s max %s",
		w.published, w.failed, w.p50.Round(100*time.Microsecond), w.p99.Round(100*time.Microsecond), w.max.Round(time.Millisecond))
	if w.failed > 0 {
		s += fmt.Sprintf(" (the slowest failure after %s)", w.failedMax.Round(time.Millisecond))
	}
	return s
}

// failedWith counts the failures whose message contains substr.
func (w faultWindow) failedWith(substr string) int {
	n := 0
	for msg, c := range w.errors {
		if strings.Contains(msg, substr) {
			n += c
		}
	}
	return n
}

// logErrors logs a window's failures by message.
func (tr *faultTraffic) logErrors(phase string, w faultWindow) {
	for msg, n := range w.errors {
		tr.t.Logf("%s: %d publish errors: %s", phase, n, msg)
	}
}

// ids are the ids of ch's publishes that were acknowledged (acked) or
// failed.
func (tr *faultTraffic) ids(ch string, acked bool) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var ids []string
	for _, s := range tr.samples {
		if s.channel == ch && (s.err == "") == acked {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// faultHistory counts the publish ids in ch's history, read forwards
// page by page through the tenant API.
func faultHistory(t *testing.T, tr *faultTraffic, ch string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	first := tr.top.URL() + "/apps/" + tr.app.ID + "/channels/" + url.PathEscape(ch) + "/messages?direction=forwards&limit=" +
		strconv.Itoa(controlplane.MaxHistoryLimit)
	next := first
	for next != "" {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(tr.app.Key, tr.app.Secret)
		code, b := testenv.Do(t, http.DefaultClient, req)
		if code != http.StatusOK {
			t.Fatalf("history of %s: %d %s", ch, code, b)
		}
		var page struct {
			Items []struct {
				Data string `json:"data"`
			} `json:"items"`
			Next *string `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("history of %s: %v", ch, err)
		}
		for _, it := range page.Items {
			var d struct{ ID string }
			if json.Unmarshal([]byte(it.Data), &d) == nil {
				ids[d.ID]++
			}
		}
		next = ""
		if page.Next != nil {
			next = first + "&cursor=" + url.QueryEscape(*page.Next)
		}
	}
	return ids
}

// faultHistoryExact fails the test unless ch's history holds every
// acknowledged publish once and no failed one; it returns how many
// messages it holds.
func faultHistoryExact(t *testing.T, tr *faultTraffic, ch string) int {
	t.Helper()
	got := faultHistory(t, tr, ch)
	for _, id := range tr.ids(ch, true) {
		if got[id] != 1 {
			t.Errorf("history of %s holds acknowledged publish %s %d times", ch, id, got[id])
		}
	}
	for _, id := range tr.ids(ch, false) {
		if got[id] != 0 {
			t.Errorf("history of %s holds failed publish %s", ch, id)
		}
	}
	n := 0
	for _, c := range got {
		n += c
	}
	return n
}

// receivedCount is how many deliveries of publish id subscribers got.
func (tr *faultTraffic) receivedCount(id string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.received[id]
}

// allCloses is how many subscriber connections ended, whatever the code.
func (tr *faultTraffic) allCloses() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, c := range tr.closes {
		n += c
	}
	return n
}

// lastAcked is the highest serial acknowledged on any of chans.
func (tr *faultTraffic) lastAcked(chans []string) uint64 {
	var last uint64
	for _, ch := range chans {
		last = max(last, tr.serials.LastAcked(ch))
	}
	return last
}

// faultPIDs are the pids of every herald process, NATS node and
// PostgreSQL, by role and index.
func faultPIDs(top *topology.Topology) map[string]int {
	pids := map[string]int{}
	for _, role := range []topology.Role{topology.RoleNATS, topology.RolePostgres, topology.RoleControlPlane, topology.RoleGateway, topology.RoleBalancer} {
		for i := range top.Count(role) {
			pids[fmt.Sprintf("%s-%d", role, i)] = top.PID(role, i)
		}
	}
	return pids
}

// faultSamePIDs fails the test unless every process in before but skip
// still runs with the same pid: nothing restarted or crashed.
func faultSamePIDs(t *testing.T, top *topology.Topology, before map[string]int, skip ...string) {
	t.Helper()
	after := faultPIDs(top)
	for name, pid := range before {
		if slices.Contains(skip, name) {
			continue
		}
		if after[name] != pid {
			t.Errorf("%s: pid %d before, %d after: it restarted or exited", name, pid, after[name])
		}
	}
}

// faultAdmin sends an admin request through the balancer.
func faultAdmin(t *testing.T, top *topology.Topology, method, path, body string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, top.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+top.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	code, h, b := testenv.DoHeader(t, http.DefaultClient, req)
	return code, h, string(b)
}

// faultMetric is the sum of a metric's samples (any labels matching
// labels, a substring such as `conn="live"`) on a server's /metrics, -1
// when it is not there.
func faultMetric(t *testing.T, baseURL, name, labels string) float64 {
	t.Helper()
	res, err := http.Get(baseURL + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	sum, found := 0.0, false
	for _, m := range re.FindAllSubmatch(b, -1) {
		if labels != "" && !strings.Contains(string(m[1]), labels) {
			continue
		}
		f, err := strconv.ParseFloat(string(m[2]), 64)
		if err == nil {
			sum, found = sum+f, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// faultStoredThrough is the highest history watermark the control planes
// report.
func faultStoredThrough(t *testing.T, top *topology.Topology) uint64 {
	t.Helper()
	var best float64
	for i := range top.Count(topology.RoleControlPlane) {
		best = max(best, faultMetric(t, serverURL(t, top, topology.RoleControlPlane, i), "herald_history_stored_through_serial", ""))
	}
	return uint64(best)
}

// faultUsagePublished is the app's messages_published over its usage
// report, -1 when the report is not available.
func faultUsagePublished(t *testing.T, top *topology.Topology, appID string) int64 {
	t.Helper()
	code, _, b := faultAdmin(t, top, http.MethodGet, "/admin/v1/apps/"+appID+"/usage", "")
	if code != http.StatusOK {
		return -1
	}
	var u struct {
		Totals struct {
			MessagesPublished int64 `json:"messages_published"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(b), &u); err != nil {
		t.Fatalf("usage %s: %v", b, err)
	}
	return u.Totals.MessagesPublished
}

// faultReconcileDifferences is how many periods the usage reconciliation
// finds where the meter, the stream and the history disagree, -1 when it
// does not answer.
func faultReconcileDifferences(t *testing.T, top *topology.Topology, appID string) int {
	t.Helper()
	// Reconciliation counts the app's messages in the stream: right after
	// a node of the cluster came back the read can answer 503 (try
	// again) while the stream's replicas settle, which is what a caller
	// is told to do.
	deadline := time.Now().Add(faultCatchUpWithin)
	code, _, b := faultAdmin(t, top, http.MethodGet, "/admin/v1/apps/"+appID+"/usage/reconcile", "")
	began := time.Now()
	for code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(testinfra.WaitPoll)
		code, _, b = faultAdmin(t, top, http.MethodGet, "/admin/v1/apps/"+appID+"/usage/reconcile", "")
	}
	if waited := time.Since(began); waited > testinfra.WaitPoll {
		t.Logf("reconcile answered 503 (try again) for %s after the fault", waited.Round(time.Millisecond))
	}
	if code != http.StatusOK {
		t.Logf("reconcile: %d %s", code, b)
		return -1
	}
	var r struct {
		Differences int `json:"differences"`
	}
	if err := json.Unmarshal([]byte(b), &r); err != nil {
		t.Fatalf("reconcile %s: %v", b, err)
	}
	return r.Differences
}

// faultCatchUp waits until history has stored every acknowledged serial
// of chans and usage counts the acknowledged publishes; it returns how
// long that took and the usage it found. Usage must count exactly the
// acknowledged publishes when none failed (a publish that failed may
// still have been stored, its acknowledgement lost: then up to those
// more), and the reconciliation of meter, stream and history must find
// no difference.
func faultCatchUp(t *testing.T, top *topology.Topology, tr *faultTraffic, chans []string) (time.Duration, int64) {
	t.Helper()
	began := time.Now()
	last := tr.lastAcked(chans)
	testinfra.WaitUntilWithin(t, "history stored through the last serial", faultCatchUpWithin, func() bool {
		return faultStoredThrough(t, top) >= last
	})
	want, failed := tr.published.Load(), tr.failed.Load()
	deadline := time.Now().Add(faultCatchUpWithin)
	got := faultUsagePublished(t, top, tr.app.ID)
	for got < want && time.Now().Before(deadline) {
		time.Sleep(testinfra.WaitPoll)
		got = faultUsagePublished(t, top, tr.app.ID)
	}
	took := time.Since(began)
	switch {
	case got > want+failed:
		t.Errorf("usage messages_published = %d, more than the %d acknowledged and %d failed", got, want, failed)
	case got < want:
		t.Errorf("usage messages_published = %d after %s, want the %d acknowledged; %s", got, faultCatchUpWithin, want, faultMeterConsumer(t, top))
	default:
		if d := faultReconcileDifferences(t, top, tr.app.ID); d != 0 {
			t.Errorf("usage reconciliation: %d periods differ between meter, stream and history", d)
		}
	}
	return took, got
}

// faultMeterConsumer describes the published-message meter's consumer of
// HERALD_MSG as the first NATS node that answers sees it, for a
// shortfall's diagnosis.
func faultMeterConsumer(t *testing.T, top *topology.Topology) string {
	t.Helper()
	for i := range top.Count(topology.RoleNATS) {
		u, err := top.NATSMonitorURL(i)
		if err != nil {
			continue
		}
		res, err := http.Get(u + "/jsz?streams=true&consumers=true&config=false")
		if err != nil {
			continue
		}
		var jsz struct {
			Accounts []struct {
				Streams []struct {
					Name  string `json:"name"`
					State struct {
						Msgs    uint64 `json:"messages"`
						LastSeq uint64 `json:"last_seq"`
					} `json:"state"`
					Consumers []struct {
						Name      string `json:"name"`
						Delivered struct {
							ConsumerSeq uint64 `json:"consumer_seq"`
						} `json:"delivered"`
						AckFloor struct {
							StreamSeq uint64 `json:"stream_seq"`
						} `json:"ack_floor"`
					} `json:"consumer_detail"`
				} `json:"stream_detail"`
			} `json:"account_details"`
		}
		err = json.NewDecoder(res.Body).Decode(&jsz)
		_ = res.Body.Close()
		if err != nil {
			continue
		}
		for _, a := range jsz.Accounts {
			for _, st := range a.Streams {
				for _, c := range st.Consumers {
					if st.Name == faultMessageStream && c.Name == meter.PublishedConsumer {
						return fmt.Sprintf("%s holds %d messages (last serial %d); consumer %s: %d deliveries, ack floor %d",
							st.Name, st.State.Msgs, st.State.LastSeq, c.Name, c.Delivered.ConsumerSeq, c.AckFloor.StreamSeq)
					}
				}
			}
		}
	}
	return "meter consumer not found"
}
