package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// Server-Sent Events: GET /sse?key=…&channel=a&channel=b streams public
// channels (and with &token=<JWT> the private ones its capabilities
// allow) to clients that cannot use WebSockets. The connection is a
// conn like any other (counted, subscribed through the hub, closed by app
// changes and shutdown); only its transport differs.
const (
	// DefaultSSEHeartbeat is the period of the comment line that keeps
	// proxies from closing an idle stream.
	DefaultSSEHeartbeat = 15 * time.Second
	// MaxSSEChannels bounds the channels of one stream.
	MaxSSEChannels = 100
	// sseQueueFrames bounds the frames waiting for one SSE client; a
	// client over it is a slow consumer.
	sseQueueFrames = 1024
)

// sseSink is the transport of an SSE connection: frames go to a channel
// that the request's goroutine drains.
type sseSink struct {
	frames chan heldFrame
	done   chan struct{}
	// final is the event written before the stream ends on a fatal error
	// (token expired, app disabled…), so the client knows why.
	final atomic.Pointer[[]byte]
}

// ServeSSE is the handler of {PathPrefix}/sse.
func (g *Gateway) ServeSSE(w http.ResponseWriter, r *http.Request) {
	ipOK, exempt := g.allowIP(w, r, "sse")
	if !ipOK {
		return
	}
	q := r.URL.Query()
	app, ok := g.cfg.Apps.ByKey(q.Get("key"))
	if !ok {
		http.Error(w, "unknown app key", http.StatusNotFound)
		return
	}
	if !app.Enabled {
		http.Error(w, "app disabled", http.StatusForbidden)
		return
	}
	if ok, retry := g.allowApp(app.ID, exempt, "sse"); !ok {
		tooMany(w, retry, "too many new connections for this application")
		return
	}
	// A token, verified as on WebSockets, opens private channels its
	// capabilities allow; the stream ends at its exp (no refresh on SSE).
	var claims *channels.TokenClaims
	if raw := q.Get("token"); raw != "" {
		var err error
		if claims, err = g.verifyConnToken(app, raw); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if !g.cfg.Now().Before(claims.ExpiresAt.Time) {
			http.Error(w, "invalid token: expired", http.StatusUnauthorized)
			return
		}
	}
	names := q["channel"]
	if len(names) == 0 || len(names) > MaxSSEChannels {
		http.Error(w, fmt.Sprintf("give 1 to %d channel parameters", MaxSSEChannels), http.StatusBadRequest)
		return
	}
	chans := make([]channels.Channel, 0, len(names))
	for _, n := range names {
		ch, err := channels.ParseChannel(n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if msg, status := sseChannelRefusal(claims, ch); status != 0 {
			http.Error(w, msg, status)
			return
		}
		chans = append(chans, ch)
	}
	cursor, hasCursor, err := parseSSECursor(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if !g.reserve(app.ID, app.Settings.MaxConnections) {
		http.Error(w, "the app is over its connection quota", http.StatusTooManyRequests)
		return
	}
	sink := &sseSink{frames: make(chan heldFrame, sseQueueFrames), done: make(chan struct{})}
	c := &conn{gw: g, socketID: g.newSocketID(), appID: app.ID, key: strings.Clone(q.Get("key")), sse: sink}
	if claims != nil {
		c.token.Store(&connToken{claims: claims})
	}
	g.register(c)
	g.metrics.connections.Inc()
	defer func() {
		c.mu.Lock()
		c.closed = true
		subs := c.subs
		c.subs = nil
		c.mu.Unlock()
		for _, s := range subs {
			g.leaveChannel(c, s)
		}
		g.metrics.subscriptions.Sub(float64(len(subs)))
		g.unregister(c)
		g.release(app.ID)
		g.metrics.connections.Dec()
	}()

	subs := make([]*subscription, 0, len(chans))
	for _, ch := range chans {
		// Live frames wait while history or the cached event is read.
		sub := &subscription{ch: ch, replaying: hasCursor || ch.Cache}
		if _, err := g.joinChannel(c, app.ID, ch, sub); err != nil {
			g.cfg.Logger.Warn("sse subscribe failed", "app", app.ID, "err", err)
			http.Error(w, "subscription temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		c.addSubscription(sub)
		subs = append(subs, sub)
	}
	// The response starts only once every channel is subscribed, so a
	// client that has the headers misses nothing published after them.
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()

	var buf bytes.Buffer
	if hasCursor {
		g.sseReplay(r.Context(), &buf, c, app, subs, cursor)
	} else {
		g.sseCached(&buf, c, subs)
	}
	if buf.Len() > 0 {
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		flusher.Flush()
	}
	heartbeat := time.NewTicker(g.cfg.SSEHeartbeat)
	defer heartbeat.Stop()
	for {
		buf.Reset()
		select {
		case <-r.Context().Done():
			return
		case <-sink.done:
			if f := sink.final.Load(); f != nil {
				_, _ = w.Write(*f)
				flusher.Flush()
			}
			return
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case f := <-sink.frames:
			appendSSE(&buf, f)
			// Drain what else is queued into the same write.
			for more := true; more; {
				select {
				case f := <-sink.frames:
					appendSSE(&buf, f)
				default:
					more = false
				}
			}
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		flusher.Flush()
		g.metrics.bytesOut.Add(float64(buf.Len()))
	}
}

// offer queues a frame for an SSE client; false means it is a slow
// consumer (then the stream ends).
func (s *sseSink) offer(f heldFrame) bool {
	select {
	case s.frames <- f:
		return true
	default:
		return false
	}
}

// finish sets the event that ends the stream: a pusher:error with code
// and message, as a WebSocket client would get before its close frame.
// The first one set wins; the caller then calls end.
func (s *sseSink) finish(code channels.WireCode, message string) {
	b := []byte("event: " + protocol.EventError + "\ndata: {\"code\":")
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = protocol.AppendString(b, message) // JSON: no raw newlines
	b = append(b, "}\n\n"...)
	s.final.CompareAndSwap(nil, &b)
}

// sseChannelRefusal says why an SSE stream may not carry channel ch
// (status 0: it may). Without a token only public channels stream; with
// one, its capabilities decide as on WebSockets. Presence channels are
// refused: a stream carries no member events and cannot answer a roster,
// so joining would make a member that sees nobody.
func sseChannelRefusal(t *channels.TokenClaims, ch channels.Channel) (string, int) {
	switch {
	case !ch.NeedsAuth():
		return "", 0
	case t == nil:
		return "only public channels can be streamed without a token", http.StatusForbidden
	case ch.Kind == channels.KindPresence:
		return "presence channels need a WebSocket: " + ch.Name, http.StatusBadRequest
	case !tokenAllows(t, ch):
		return "the token does not allow channel " + ch.Name, http.StatusForbidden
	}
	return "", 0
}

// end stops the stream (app change, terminate, shutdown, slow consumer).
func (s *sseSink) end() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}

// sseCursor is the id of an SSE event: the serial of the last message
// sent and when it was published (Unix ms). Serials are stream sequences,
// shared by every channel, so one cursor resumes all the stream's channels.
type sseCursor struct {
	serial uint64
	atMs   int64
}

func (c sseCursor) String() string {
	return strconv.FormatUint(c.serial, 10) + "-" + strconv.FormatInt(c.atMs, 10)
}

// parseSSECursor reads Last-Event-ID (or ?last_event_id=).
func parseSSECursor(r *http.Request) (sseCursor, bool, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return sseCursor{}, false, nil
	}
	s, ms, ok := strings.Cut(v, "-")
	serial, err1 := strconv.ParseUint(s, 10, 64)
	at, err2 := strconv.ParseInt(ms, 10, 64)
	if !ok || err1 != nil || err2 != nil || serial == 0 {
		return sseCursor{}, false, fmt.Errorf("malformed Last-Event-ID %q", v)
	}
	return sseCursor{serial: serial, atMs: at}, true, nil
}

// sseReplay writes what the client missed on every channel since the
// cursor, in serial order, then releases the live frames held meanwhile.
// A cursor outside the resume window replays nothing; the stream then
// says so with a herald_internal:resume_result event, as on WebSockets.
func (g *Gateway) sseReplay(ctx context.Context, buf *bytes.Buffer, c *conn, app *channels.AppConfig, subs []*subscription, cur sseCursor) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.PublishTimeout)
	defer cancel()
	recovered := g.cfg.Now().Sub(time.UnixMilli(cur.atMs)) <= app.Settings.ResumeWindow()
	var all []stream.Delivery
	if recovered {
		for _, sub := range subs {
			msgs, err := g.cfg.Reader.Range(ctx, app.ID, sub.ch.Name, cur.serial, 0, MaxResumeReplay+1)
			if err != nil || len(msgs) > MaxResumeReplay {
				recovered = false
				break
			}
			all = append(all, msgs...)
		}
	}
	if !recovered {
		all = nil
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Serial < all[j].Serial })
	last := map[string]uint64{}
	for i := range all {
		m := &all[i]
		appendSSE(buf, storedFrame(m))
		last[m.Channel] = m.Serial
	}
	result := `{"recovered":false}`
	if recovered {
		result = `{"recovered":true}`
	}
	fmt.Fprintf(buf, "event: %s\ndata: %s\n\n", protocol.EventResumeResult, result)

	type gap struct {
		sub      *subscription
		from, to uint64
	}
	var gaps []gap
	var verify []*subscription
	c.mu.Lock()
	for _, sub := range subs {
		floor := max(last[sub.ch.Name], cur.serial)
		sub.verify = recovered
		if to := c.releaseLocked(sub, floor, func(h heldFrame) { appendSSE(buf, h) }); to > 0 {
			gaps = append(gaps, gap{sub, floor, to})
		} else if sub.verify {
			verify = append(verify, sub)
		}
	}
	c.mu.Unlock()
	// Fetched gaps go to the stream's queue, which is written after buf.
	for _, gp := range gaps {
		g.catchUp(c, gp.sub, gp.from, gp.to)
	}
	for _, sub := range verify {
		g.scheduleTailCheck(c, sub)
	}
}

// sseCached writes the last event of every cache channel of a stream
// opened without a cursor, then releases the live frames held meanwhile
// (a miss writes nothing: an SSE stream carries only channel messages).
func (g *Gateway) sseCached(buf *bytes.Buffer, c *conn, subs []*subscription) {
	emit := func(h heldFrame) { appendSSE(buf, h) }
	for _, sub := range subs {
		if !sub.ch.Cache {
			continue
		}
		f, ok := g.cachedFrame(c.appID, sub.ch.Name)
		c.mu.Lock()
		if ok {
			emit(f)
		}
		c.releaseLocked(sub, f.serial, emit)
		c.mu.Unlock()
	}
}

// appendSSE writes one event: id (the cursor), event name and the Pusher
// JSON of the message as data. Frames without a serial (protocol events)
// are not streamed.
func appendSSE(buf *bytes.Buffer, f heldFrame) {
	if f.serial == 0 {
		return
	}
	payload := f.frame
	if f.framed {
		payload = wsPayload(f.frame)
	}
	var head struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(payload, &head)
	at := f.atMs
	if at == 0 {
		at = time.Now().UnixMilli()
	}
	buf.WriteString("id: ")
	buf.WriteString(sseCursor{serial: f.serial, atMs: at}.String())
	buf.WriteString("\nevent: ")
	buf.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(head.Event))
	buf.WriteString("\ndata: ")
	buf.Write(payload) // JSON: no raw newlines
	buf.WriteString("\n\n")
}

// wsPayload returns the payload of an unmasked server frame built by
// ws.AppendFrame.
func wsPayload(frame []byte) []byte {
	if len(frame) < 2 {
		return nil
	}
	switch n := frame[1] & 0x7f; {
	case n < 126:
		return frame[2:]
	case n == 126:
		return frame[4:]
	default:
		return frame[10:]
	}
}
