package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// historyTimeout bounds waiting for the history writer; nothing waits this
// long when it works.
const historyTimeout = 60 * time.Second

// historyPage is the answer of the history API.
type historyPage struct {
	Items []struct {
		Serial        uint64  `json:"serial"`
		Event         string  `json:"event"`
		Data          string  `json:"data"`
		PublishedAtMs int64   `json:"published_at_ms"`
		UserID        *string `json:"user_id"`
	} `json:"items"`
	Next *string `json:"next"`
}

func (p historyPage) serials() []uint64 {
	out := make([]uint64, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.Serial
	}
	return out
}

// historyEnv is a running Herald, a publisher on its message stream and
// its database.
type historyEnv struct {
	h    *testenv.HeraldEnv
	pub  *stream.Publisher
	pool *pgxpool.Pool
}

func newHistoryEnv(t *testing.T) *historyEnv {
	t.Helper()
	h := testenv.Herald(t)
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := testinfra.JetStream(t, nc)
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js, Timeout: historyTimeout})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), h.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &historyEnv{h: h, pub: pub, pool: pool}
}

// publish stores msgs of the demo app and returns their serials, in the
// order of msgs.
func (e *historyEnv) publish(t *testing.T, msgs []stream.Message) []uint64 {
	t.Helper()
	const chunk = 1000
	serials := make([]uint64, 0, len(msgs))
	for start := 0; start < len(msgs); start += chunk {
		part := msgs[start:min(len(msgs), start+chunk)]
		for i := range part {
			if part[i].AppID == "" {
				part[i].AppID = testenv.AppID
			}
			if part[i].Source == "" {
				part[i].Source = stream.SourceAPI
			}
		}
		res, err := e.pub.PublishBatch(context.Background(), part)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		for _, r := range res {
			serials = append(serials, r.Serial)
		}
	}
	return serials
}

// waitStored waits until the history holds every serial given.
func (e *historyEnv) waitStored(t *testing.T, serials []uint64) {
	t.Helper()
	want := make([]int64, len(serials))
	for i, s := range serials {
		want[i] = int64(s)
	}
	testinfra.WaitUntilWithin(t, fmt.Sprintf("history to hold %d messages", len(want)), historyTimeout, func() bool {
		var n int
		err := e.pool.QueryRow(context.Background(), "select count(*) from messages where serial = any($1)", want).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == len(want)
	})
}

// get sends a history request with Basic auth; path is relative to the
// Herald's URL and may carry a query.
func (e *historyEnv) get(t *testing.T, path, key, secret string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.h.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, secret)
	return testenv.DoHeader(t, http.DefaultClient, req)
}

// messagesPath is the history path of a channel of the demo app.
func messagesPath(channel string, q url.Values) string {
	p := "/apps/" + testenv.AppID + "/channels/" + url.PathEscape(channel) + "/messages"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

var linkPattern = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// page fetches one page and checks that the Link header mirrors next; it
// returns the page and the Link target ("" on the last page).
func (e *historyEnv) page(t *testing.T, path string) (historyPage, string) {
	t.Helper()
	status, h, body := e.get(t, path, testenv.AppKey, testenv.AppSecret)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, status, body)
	}
	var p historyPage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("GET %s: %s: %v", path, body, err)
	}
	if p.Items == nil {
		t.Fatalf("GET %s: items is null: %s", path, body)
	}
	link := h.Get("Link")
	if p.Next == nil {
		if link != "" {
			t.Fatalf("GET %s: Link %q on the last page", path, link)
		}
		return p, ""
	}
	m := linkPattern.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("GET %s: Link = %q with next %q", path, link, *p.Next)
	}
	u, err := url.Parse(m[1])
	if err != nil || u.IsAbs() || u.Query().Get("cursor") != *p.Next {
		t.Fatalf("GET %s: Link %q does not carry next %q", path, link, *p.Next)
	}
	return p, m[1]
}

// walk follows the Link headers from the first page to the last and
// returns every serial in the order received and the number of pages.
func (e *historyEnv) walk(t *testing.T, channel string, q url.Values) ([]uint64, int) {
	t.Helper()
	var serials []uint64
	path := messagesPath(channel, q)
	for pages := 1; ; pages++ {
		p, next := e.page(t, path)
		serials = append(serials, p.serials()...)
		if next == "" {
			return serials, pages
		}
		if pages > 10000 {
			t.Fatal("paging never ends")
		}
		path = next
	}
}

func reversed(s []uint64) []uint64 {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestHistoryProof is the proof of issue 5: 10,000 messages across 50
// channels; the history API returns every one of them once, in order,
// paging forwards and backwards.
func TestHistoryProof(t *testing.T) {
	e := newHistoryEnv(t)
	const total, nchan = 10000, 50
	names := make([]string, nchan)
	for i := range names {
		switch i % 5 {
		case 0:
			names[i] = fmt.Sprintf("chan-%d", i)
		case 1:
			names[i] = fmt.Sprintf("private-a.b@c,d;e=%d", i)
		case 2:
			names[i] = fmt.Sprintf("presence-room-%d", i)
		case 3:
			names[i] = fmt.Sprintf("#server-to-user-u%d", i)
		default:
			names[i] = fmt.Sprintf("cache-%d", i)
		}
	}
	msgs := make([]stream.Message, total)
	for i := range msgs {
		msgs[i] = stream.Message{Channel: names[i%nchan], Event: fmt.Sprintf("ev-%d", i%3), Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
	}
	start := time.Now()
	serials := e.publish(t, msgs)
	e.waitStored(t, serials)
	t.Logf("%d messages published and stored in %v", total, time.Since(start))

	byChannel := map[string][]uint64{}
	data := map[uint64]string{}
	for i, s := range serials {
		byChannel[msgs[i].Channel] = append(byChannel[msgs[i].Channel], s)
		data[s] = string(msgs[i].Data)
	}
	start = time.Now()
	var requests int
	for _, name := range names {
		want := byChannel[name]
		slices.Sort(want)
		got, pages := e.walk(t, name, url.Values{"direction": {"forwards"}, "limit": {"97"}})
		requests += pages
		if !slices.Equal(got, want) {
			t.Fatalf("%s forwards: %d serials, want %d, or out of order", name, len(got), len(want))
		}
		if pages != (len(want)+96)/97 {
			t.Errorf("%s forwards: %d pages for %d messages by 97", name, pages, len(want))
		}
		got, pages = e.walk(t, name, nil)
		requests += pages
		if !slices.Equal(got, reversed(want)) {
			t.Fatalf("%s backwards: %d serials, want %d, or out of order", name, len(got), len(want))
		}
	}
	t.Logf("%d pages read in %v", requests, time.Since(start))

	// The content of one page, item by item.
	p, _ := e.page(t, messagesPath(names[1], url.Values{"limit": {"3"}}))
	for _, it := range p.Items {
		if it.Data != data[it.Serial] || !strings.HasPrefix(it.Event, "ev-") || it.UserID != nil ||
			time.Since(time.UnixMilli(it.PublishedAtMs)) > 10*time.Minute {
			t.Errorf("item %+v, want data %s", it, data[it.Serial])
		}
	}
}

// TestHistoryParameters checks every parameter against a channel whose
// messages are known.
func TestHistoryParameters(t *testing.T) {
	e := newHistoryEnv(t)
	const channel = "presence-params"
	var msgs []stream.Message
	for i := range 20 {
		msgs = append(msgs, stream.Message{Channel: channel, Event: "e" + strconv.Itoa(i), Data: []byte(strconv.Itoa(i))})
	}
	msgs[3].Data = []byte(`{"html":"<b>&amp;</b>","quote":"\"","nl":"\n"}`)
	msgs[4].UserID, msgs[4].Source = "user ü", stream.SourceClient
	msgs[5].Data = nil
	serials := e.publish(t, msgs)
	// Another channel and another app's messages stay out of every answer.
	e.publish(t, []stream.Message{{Channel: channel + "-other", Event: "x"}, {AppID: "other-app", Channel: channel, Event: "x"}})
	e.waitStored(t, serials)
	slices.Sort(serials)

	all, _ := e.page(t, messagesPath(channel, url.Values{"direction": {"forwards"}, "limit": {"1000"}}))
	if !slices.Equal(all.serials(), serials) || all.Next != nil {
		t.Fatalf("all messages = %v (next %v), want %v", all.serials(), all.Next, serials)
	}
	for i, it := range all.Items {
		wantUser := msgs[i].UserID
		if it.Event != msgs[i].Event || it.Data != string(msgs[i].Data) ||
			(it.UserID == nil) != (wantUser == "") || (it.UserID != nil && *it.UserID != wantUser) {
			t.Errorf("item %d = %+v, want %+v", i, it, msgs[i])
		}
		if i > 0 && it.PublishedAtMs < all.Items[i-1].PublishedAtMs {
			t.Errorf("published_at_ms goes back at item %d", i)
		}
	}
	// A time window from the stored times (several messages may share a
	// millisecond).
	startMs, endMs := all.Items[5].PublishedAtMs, all.Items[14].PublishedAtMs
	var window []uint64
	for _, it := range all.Items {
		if it.PublishedAtMs >= startMs && it.PublishedAtMs <= endMs {
			window = append(window, it.Serial)
		}
	}
	var fromStart, toEnd []uint64
	for _, it := range all.Items {
		if it.PublishedAtMs >= startMs {
			fromStart = append(fromStart, it.Serial)
		}
		if it.PublishedAtMs <= endMs {
			toEnd = append(toEnd, it.Serial)
		}
	}
	start, end := strconv.FormatInt(startMs, 10), strconv.FormatInt(endMs, 10)
	mid := strconv.FormatUint(serials[9], 10)

	tests := []struct {
		name  string
		query url.Values
		want  []uint64
	}{
		{"defaults: backwards, 100", nil, reversed(serials)},
		{"forwards", url.Values{"direction": {"forwards"}}, serials},
		{"explicit backwards", url.Values{"direction": {"backwards"}}, reversed(serials)},
		{"limit 1 forwards", url.Values{"direction": {"forwards"}, "limit": {"1"}}, serials},
		{"limit 7 backwards", url.Values{"limit": {"7"}}, reversed(serials)},
		{"from_serial forwards", url.Values{"direction": {"forwards"}, "from_serial": {mid}}, serials[10:]},
		{"from_serial backwards", url.Values{"from_serial": {mid}, "limit": {"4"}}, reversed(serials[:9])},
		{"from_serial 0 forwards", url.Values{"direction": {"forwards"}, "from_serial": {"0"}}, serials},
		{"from_serial 0 backwards", url.Values{"from_serial": {"0"}}, nil},
		{"from_serial past the end", url.Values{"direction": {"forwards"}, "from_serial": {strconv.FormatUint(serials[19]+1000, 10)}}, nil},
		{"from_serial past int64 forwards", url.Values{"direction": {"forwards"}, "from_serial": {"9223372036854775808"}}, nil},
		{"from_serial max backwards", url.Values{"from_serial": {"18446744073709551615"}}, reversed(serials)},
		{"start", url.Values{"direction": {"forwards"}, "start": {start}, "limit": {"3"}}, fromStart},
		{"end", url.Values{"end": {end}, "limit": {"3"}}, reversed(toEnd)},
		{"start and end forwards", url.Values{"direction": {"forwards"}, "start": {start}, "end": {end}, "limit": {"2"}}, window},
		{"start and end backwards", url.Values{"start": {start}, "end": {end}, "limit": {"3"}}, reversed(window)},
		{"start equals end", url.Values{"start": {start}, "end": {start}}, reversed(msFilter(all, startMs))},
		{"window and from_serial", url.Values{"direction": {"forwards"}, "start": {"0"}, "end": {end}, "from_serial": {mid}, "limit": {"2"}}, after(toEnd, serials[9])},
		{"future window", url.Values{"start": {strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := e.walk(t, channel, tt.query)
			if !slices.Equal(got, tt.want) {
				t.Errorf("serials = %v, want %v", got, tt.want)
			}
		})
	}
	// The last page has no next, and a page that ends exactly at the last
	// message says so rather than leading to an empty page.
	p, _ := e.page(t, messagesPath(channel, url.Values{"limit": {"20"}}))
	if len(p.Items) != 20 || p.Next != nil {
		t.Errorf("a page of exactly every message: %d items, next %v", len(p.Items), p.Next)
	}
}

func msFilter(p historyPage, ms int64) []uint64 {
	var out []uint64
	for _, it := range p.Items {
		if it.PublishedAtMs == ms {
			out = append(out, it.Serial)
		}
	}
	return out
}

func after(s []uint64, bound uint64) []uint64 {
	var out []uint64
	for _, v := range s {
		if v > bound {
			out = append(out, v)
		}
	}
	return out
}

// TestHistoryBadInput: every bad parameter is a 400 in the one error
// shape naming the parameter; tampered or misused cursors never lead
// anywhere; other credentials are refused.
func TestHistoryBadInput(t *testing.T) {
	e := newHistoryEnv(t)
	serials := e.publish(t, []stream.Message{{Channel: "c", Event: "e"}, {Channel: "c", Event: "e"}, {Channel: "c", Event: "e"},
		{Channel: "d", Event: "e"}, {Channel: "d", Event: "e"}})
	e.waitStored(t, serials)
	first, _ := e.page(t, messagesPath("c", url.Values{"limit": {"1"}}))
	if first.Next == nil {
		t.Fatal("no cursor")
	}
	cursor := *first.Next
	fwd, _ := e.page(t, messagesPath("c", url.Values{"limit": {"1"}, "direction": {"forwards"}, "start": {"0"}}))
	fwdCursor := *fwd.Next
	// A well-formed cursor for a position one serial further: only its
	// MAC can tell.
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", cursor, err)
	}
	raw[8] ^= 1
	tampered := base64.RawURLEncoding.EncodeToString(raw)

	tests := []struct {
		name, channel string
		query         url.Values
		field         string
	}{
		{"limit 0", "c", url.Values{"limit": {"0"}}, "limit"},
		{"limit 1001", "c", url.Values{"limit": {"1001"}}, "limit"},
		{"limit negative", "c", url.Values{"limit": {"-1"}}, "limit"},
		{"limit not a number", "c", url.Values{"limit": {"ten"}}, "limit"},
		{"limit fraction", "c", url.Values{"limit": {"1.5"}}, "limit"},
		{"direction", "c", url.Values{"direction": {"sideways"}}, "direction"},
		{"direction case", "c", url.Values{"direction": {"Forwards"}}, "direction"},
		{"start not a number", "c", url.Values{"start": {"yesterday"}}, "start"},
		{"start negative", "c", url.Values{"start": {"-1"}}, "start"},
		{"start in seconds with a fraction", "c", url.Values{"start": {"1700000000.5"}}, "start"},
		{"end huge", "c", url.Values{"end": {"99999999999999999999"}}, "end"},
		{"end before start", "c", url.Values{"start": {"2000"}, "end": {"1000"}}, "end"},
		{"from_serial negative", "c", url.Values{"from_serial": {"-1"}}, "from_serial"},
		{"from_serial not a number", "c", url.Values{"from_serial": {"x"}}, "from_serial"},
		{"from_serial past uint64", "c", url.Values{"from_serial": {"18446744073709551616"}}, "from_serial"},
		{"cursor garbage", "c", url.Values{"cursor": {"garbage"}}, "cursor"},
		{"cursor not base64", "c", url.Values{"cursor": {strings.Repeat("!", len(cursor))}}, "cursor"},
		{"cursor tampered", "c", url.Values{"cursor": {tampered}}, "cursor"},
		{"cursor truncated", "c", url.Values{"cursor": {cursor[:len(cursor)-1]}}, "cursor"},
		{"cursor extended", "c", url.Values{"cursor": {cursor + "A"}}, "cursor"},
		{"cursor of another channel", "d", url.Values{"cursor": {cursor}}, "cursor"},
		{"cursor in the other direction", "c", url.Values{"cursor": {cursor}, "direction": {"forwards"}}, "cursor"},
		{"cursor with another start", "c", url.Values{"cursor": {fwdCursor}, "direction": {"forwards"}, "start": {"1"}}, "cursor"},
		{"cursor without its start", "c", url.Values{"cursor": {fwdCursor}, "direction": {"forwards"}}, "cursor"},
		{"cursor with an added from_serial", "c", url.Values{"cursor": {cursor}, "from_serial": {"1"}}, "cursor"},
		{"bad channel name", "bad name", nil, "channel"},
		{"long channel name", strings.Repeat("c", 201), nil, "channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := e.get(t, messagesPath(tt.channel, tt.query), testenv.AppKey, testenv.AppSecret)
			wantAPIError(t, status, body, http.StatusBadRequest, "bad_request", tt.field)
		})
	}
	// The same cursor with the limit changed is fine.
	p, _ := e.page(t, messagesPath("c", url.Values{"cursor": {cursor}, "limit": {"5"}}))
	if !slices.Equal(p.serials(), []uint64{serials[1], serials[0]}) {
		t.Errorf("cursor with another limit = %v", p.serials())
	}

	// Credentials of another app, and unknown ones.
	other := createApp(t, e.h, "other-app")
	status, _, body := e.get(t, messagesPath("c", nil), other.Key, other.Secret)
	wantAPIError(t, status, body, http.StatusUnauthorized, "unauthorized", "")
	status, _, body = e.get(t, messagesPath("c", nil), testenv.AppKey, "wrong-secret")
	wantAPIError(t, status, body, http.StatusUnauthorized, "unauthorized", "")
	status, _, body = e.get(t, "/apps/nope/channels/c/messages", testenv.AppKey, testenv.AppSecret)
	wantAPIError(t, status, body, http.StatusNotFound, "", "")
	// The other app's own history of the same channel is empty, and the
	// demo app's cursor means nothing there.
	otherPath := "/apps/other-app/channels/c/messages"
	status, _, body = e.get(t, otherPath, other.Key, other.Secret)
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"items":[],"next":null}` {
		t.Errorf("other app's history = %d %s", status, body)
	}
	status, _, body = e.get(t, otherPath+"?cursor="+cursor, other.Key, other.Secret)
	wantAPIError(t, status, body, http.StatusBadRequest, "bad_request", "cursor")

	// Pusher request signing works as for every tenant route.
	code, body := testenv.SignedRequest(t, http.MethodGet, e.h.URL(), messagesPath("c", nil), testenv.AppKey, testenv.AppSecret,
		url.Values{"limit": {"2"}}, nil)
	var signed historyPage
	if code != http.StatusOK || json.Unmarshal(body, &signed) != nil || len(signed.Items) != 2 || signed.Next == nil {
		t.Errorf("signed request = %d %s", code, body)
	}
	code, body = testenv.SignedRequest(t, http.MethodGet, e.h.URL(), messagesPath("c", nil), testenv.AppKey, "wrong-secret", nil, nil)
	wantAPIError(t, code, body, http.StatusUnauthorized, "unauthorized", "")
}

// wantAPIError fails unless the answer has status and is the one error
// shape with code (when not empty) and field (when not empty).
func wantAPIError(t *testing.T, status int, body []byte, wantStatus int, code, field string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Message == "" {
		t.Fatalf("not the error shape: %s (%v)", body, err)
	}
	if code != "" && e.Error.Code != code {
		t.Fatalf("code %q, want %q: %s", e.Error.Code, code, body)
	}
	if field != "" && (e.Error.Field == nil || *e.Error.Field != field) {
		t.Fatalf("field in %s, want %q", body, field)
	}
}

// appCredentials are an app key and its secret.
type appCredentials struct{ Key, Secret string }

// createApp makes an app with a key through the admin API and waits until
// the tenant API knows it.
func createApp(t *testing.T, h *testenv.HeraldEnv, id string) appCredentials {
	t.Helper()
	admin := func(path string, in, out any) {
		t.Helper()
		if code := h.Admin(t, http.MethodPost, path, in, out); code != http.StatusCreated {
			t.Fatalf("POST %s = %d", path, code)
		}
	}
	var acc struct{ ID string }
	admin("/admin/v1/accounts", map[string]any{"name": "Other"}, &acc)
	var app struct{ ID string }
	admin("/admin/v1/apps", map[string]any{"account_id": acc.ID, "name": "Other", "id": id}, &app)
	var key appCredentials
	admin("/admin/v1/apps/"+id+"/keys", map[string]any{}, &key)
	testinfra.Sensitive(key.Secret)
	testinfra.WaitUntilWithin(t, "the new app served", historyTimeout, func() bool {
		req, _ := http.NewRequest(http.MethodGet, h.URL()+"/apps/"+id+"/channels/c/messages", nil)
		req.SetBasicAuth(key.Key, key.Secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return key
}

// TestHistoryPagingWhileMessagesArrive: paging backwards is not disturbed
// by newer messages, and paging forwards reaches them, every serial once.
func TestHistoryPagingWhileMessagesArrive(t *testing.T) {
	e := newHistoryEnv(t)
	const channel = "live"
	batch := func(n int) []stream.Message {
		msgs := make([]stream.Message, n)
		for i := range msgs {
			msgs[i] = stream.Message{Channel: channel, Event: "e", Data: []byte(strconv.Itoa(i))}
		}
		return msgs
	}
	initial := e.publish(t, batch(300))
	e.waitStored(t, initial)
	slices.Sort(initial)
	all := slices.Clone(initial)

	// Backwards: new messages between pages never show up, nothing is
	// skipped or repeated.
	var got []uint64
	path := messagesPath(channel, url.Values{"limit": {"50"}})
	for pages := 0; path != ""; pages++ {
		var p historyPage
		p, path = e.page(t, path)
		got = append(got, p.serials()...)
		more := e.publish(t, batch(20))
		e.waitStored(t, more)
		all = append(all, more...)
	}
	if !slices.Equal(got, reversed(initial)) {
		t.Fatalf("backwards while publishing: %d serials, want the %d there at the start", len(got), len(initial))
	}

	// Forwards: every page continues exactly where the last one ended and
	// takes in what arrived meanwhile.
	got = nil
	path = messagesPath(channel, url.Values{"direction": {"forwards"}, "limit": {"50"}})
	for rounds := 0; path != ""; rounds++ {
		var p historyPage
		p, path = e.page(t, path)
		got = append(got, p.serials()...)
		if rounds < 10 {
			more := e.publish(t, batch(20))
			e.waitStored(t, more)
			all = append(all, more...)
		}
	}
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Fatalf("forwards while publishing: %d serials, want %d in order", len(got), len(all))
	}
}

// TestHistoryReadsYourWrites: a message is in the history the moment its
// REST publish returns, newest first and paging forwards, although the
// writer (waiting a second to fill each batch here) has not stored it.
func TestHistoryReadsYourWrites(t *testing.T) {
	h := testenv.Herald(t, func(c *platform.Config) {
		c.History.BatchWait, c.History.AckWait = time.Second, 3*time.Second
	})
	e := &historyEnv{h: h}
	const channel = "ryw"
	var all []uint64
	for i := range 30 {
		serial := testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, "e", strconv.Itoa(i), channel)[channel]
		all = append(all, serial)
		p, _ := e.page(t, messagesPath(channel, url.Values{"limit": {"1"}}))
		if got := p.serials(); !slices.Equal(got, []uint64{serial}) {
			t.Fatalf("newest right after publishing %d = %v", serial, got)
		}
		if i%5 == 4 {
			got, _ := e.walk(t, channel, url.Values{"direction": {"forwards"}, "limit": {"4"}, "from_serial": {strconv.FormatUint(all[0]-1, 10)}})
			if !slices.Equal(got, all) {
				t.Fatalf("paging forwards after %d publishes: %v, want %v", i+1, got, all)
			}
		}
	}
}
