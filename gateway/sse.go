package gateway

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/sse"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/cors"
)

// Server-Sent Events: GET /sse?key=…&channel=a&channel=b streams public
// channels (and with &token=<JWT> the private ones its capabilities
// allow) to clients that cannot use WebSockets. The connection is a
// conn like any other (counted, subscribed through the hub, closed by app
// changes and shutdown); only its sink differs (sink.go, gateway/sse).
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

// sseRequest is an admitted SSE request: what its stream will carry.
type sseRequest struct {
	app    *channels.AppConfig
	key    string
	claims *channels.TokenClaims
	chans  []channels.Channel
	cursor sse.Cursor
	// resume is set when the request carried a cursor.
	resume bool
	out    flushWriter
}

// sseAllow lists the methods of the SSE endpoint.
const sseAllow = "GET, HEAD, OPTIONS"

// sseMethods are the methods a page may stream with, as a preflight
// answers them.
var sseMethods = []string{http.MethodGet, http.MethodHead}

// ServeSSE is the handler of {PathPrefix}/sse, for every method: admit
// the request, subscribe its connection to the channels, then stream;
// answer a browser's preflight; refuse other methods. A HEAD is admitted
// as a GET and answered with the stream's status and headers, and
// nothing is reserved or subscribed for it: it cannot learn whether a
// connection slot is free. Every refusal is in the one JSON error shape
// (WriteError).
func (g *Gateway) ServeSSE(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		g.ssePreflight(w, r)
		return
	default:
		methodNotAllowed(w, r, sseAllow)
		return
	}
	if g.shuttingDown.Load() {
		httpError(w, r, http.StatusServiceUnavailable, "gateway shutting down")
		return
	}
	req, ok := g.admitSSE(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodHead {
		startSSE(req.out)
		return
	}
	if refusal := g.reserveConn(req.app); refusal != connAdmitted {
		refuseConnQuota(w, r, refusal)
		return
	}
	st := sse.NewStream(sseQueueFrames)
	c := &conn{gw: g, sink: sseSink{stream: st}, socketID: g.newSocketID(), appID: req.app.ID, key: strings.Clone(req.key), meter: g.cfg.Meter.App(req.app.ID).Shard(),
		series: g.metrics.forApp(req.app.ID)}
	if req.claims != nil {
		c.token.Store(newConnToken(req.claims, g.cfg.Now()))
	}
	g.register(c)
	c.series.connections.Inc()
	g.debugConnected(c, r)
	defer g.closeSSE(c)

	subs, err := g.subscribeSSE(c, req)
	if err != nil {
		g.cfg.Logger.Warn("sse subscribe failed", "app", req.app.ID, "err", err)
		httpError(w, r, http.StatusServiceUnavailable, "subscription temporarily unavailable")
		return
	}
	g.streamSSE(r.Context(), c, st, req, subs)
}

// admitSSE checks a request before anything is reserved for it: rate
// limits, app, token, channels and cursor. A refused request has been
// answered.
func (g *Gateway) admitSSE(w http.ResponseWriter, r *http.Request) (*sseRequest, bool) {
	ipOK, exempt := g.allowIP(w, r, "sse")
	if !ipOK {
		return nil, false
	}
	q := r.URL.Query()
	app, ok := g.cfg.Apps.ByKey(q.Get("key"))
	if !ok {
		WriteError(w, r, http.StatusNotFound, channels.CodeAppNotFound, "unknown app key")
		return nil, false
	}
	// From here on the page may read the answer, refusals included.
	if !cors.Actual(w.Header(), r, app.Settings.AllowsOrigin) {
		WriteError(w, r, http.StatusForbidden, channels.CodeForbidden, errOriginRefused)
		return nil, false
	}
	if !app.Enabled {
		WriteError(w, r, http.StatusForbidden, channels.CodeAppDisabled, "app disabled")
		return nil, false
	}
	if ok, retry := g.allowApp(app.ID, exempt, "sse"); !ok {
		tooMany(w, r, retry, "too many new connections for this application")
		return nil, false
	}
	req := &sseRequest{app: app, key: q.Get("key")}
	// A token, verified as on WebSockets, opens private channels its
	// capabilities allow; the stream ends at its exp (no refresh on SSE).
	if raw := q.Get("token"); raw != "" {
		client := g.cfg.AuthGuard.Client(r)
		if wait := g.cfg.AuthGuard.Throttled(client, authguard.KindToken); wait > 0 {
			tooMany(w, r, wait, authguard.Message(wait))
			return nil, false
		}
		var err error
		if req.claims, err = g.verifyConnToken(app, raw); err != nil {
			g.cfg.AuthGuard.Failed(client, authguard.KindToken)
			httpError(w, r, http.StatusUnauthorized, err.Error())
			return nil, false
		}
		if !g.cfg.Now().Before(req.claims.ExpiresAt.Time) {
			httpError(w, r, http.StatusUnauthorized, "invalid token: expired")
			return nil, false
		}
	}
	names := q["channel"]
	if len(names) == 0 || len(names) > MaxSSEChannels {
		httpError(w, r, http.StatusBadRequest, fmt.Sprintf("give 1 to %d channel parameters", MaxSSEChannels))
		return nil, false
	}
	req.chans = make([]channels.Channel, 0, len(names))
	for _, n := range names {
		ch, err := channels.ParseChannel(n)
		if err != nil {
			httpError(w, r, http.StatusBadRequest, err.Error())
			return nil, false
		}
		if msg, status := sseChannelRefusal(req.claims, ch); status != 0 {
			httpError(w, r, status, msg)
			return nil, false
		}
		req.chans = append(req.chans, ch)
	}
	var err error
	if req.cursor, req.resume, err = sse.RequestCursor(r); err != nil {
		httpError(w, r, http.StatusBadRequest, err.Error())
		return nil, false
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		httpError(w, r, http.StatusInternalServerError, "streaming unsupported")
		return nil, false
	}
	req.out = flushWriter{w, flusher}
	return req, true
}

// errOriginRefused is the message refusing a request whose Origin the app
// does not list in allowed_origins.
const errOriginRefused = "origin not allowed"

// ssePreflight answers a browser's preflight of a stream (a fetch-based
// client sending Last-Event-ID or Authorization) for the origins of the
// app whose key is in the query, with CORS headers (docs/protocol.md,
// "Cross-origin requests"). A preflight carries no credentials: the
// answer says only whether the origin may try. A plain OPTIONS gets
// Allow.
func (g *Gateway) ssePreflight(w http.ResponseWriter, r *http.Request) {
	if !cors.IsPreflight(r) {
		w.Header().Set("Allow", sseAllow)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	app, ok := g.cfg.Apps.ByKey(r.URL.Query().Get("key"))
	if !ok {
		WriteError(w, r, http.StatusNotFound, channels.CodeAppNotFound, "unknown app key")
		return
	}
	if !cors.Preflight(w.Header(), r, sseMethods, app.Settings.AllowsOrigin) {
		WriteError(w, r, http.StatusForbidden, channels.CodeForbidden, errOriginRefused)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// flushWriter is an HTTP response as a stream writes it.
type flushWriter struct {
	http.ResponseWriter
	http.Flusher
}

// subscribeSSE joins c to every channel of req. Live frames wait while
// history or the cached event is read.
func (g *Gateway) subscribeSSE(c *conn, req *sseRequest) ([]*subscription, error) {
	subs := make([]*subscription, 0, len(req.chans))
	for _, ch := range req.chans {
		sub := &subscription{ch: ch, replaying: req.resume || ch.Cache}
		if _, err := g.joinChannel(c, req.app.ID, ch, sub); err != nil {
			return nil, err
		}
		c.addSubscription(sub)
		subs = append(subs, sub)
	}
	return subs, nil
}

// streamSSE starts the response once every channel is subscribed, so a
// client that has the headers misses nothing published after them; it
// writes the replay (or the cached events), then the stream until the
// client leaves or the connection is closed.
func (g *Gateway) streamSSE(ctx context.Context, c *conn, st *sse.Stream, req *sseRequest, subs []*subscription) {
	startSSE(req.out)

	var first sse.First
	if req.resume {
		g.sseReplay(ctx, &first, c, req.app, subs, req.cursor)
	} else {
		g.sseCached(&first, c, subs)
	}
	st.Run(ctx, req.out, first, g.cfg.SSEHeartbeat, func(w sse.Written) {
		g.metrics.bytesOut.Add(float64(w.Bytes))
		if w.Events > 0 {
			c.meter.Delivered(int64(w.Events), int64(w.EventBytes))
		}
	})
}

// startSSE sends the status and headers of a stream.
func startSSE(out flushWriter) {
	h := out.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	out.WriteHeader(http.StatusOK)
	out.Flush()
}

// closeSSE undoes what ServeSSE set up once the stream ended.
func (g *Gateway) closeSSE(c *conn) {
	c.mu.Lock()
	c.closed = true
	subs := c.subs.take()
	closing := c.closing
	code, reason := c.closeWithLocked()
	c.mu.Unlock()
	for _, s := range subs {
		g.leaveChannel(c, s)
	}
	g.metrics.subscriptions.Sub(float64(len(subs)))
	g.unregister(c)
	g.release(c.appID)
	c.appSeries().connections.Dec()
	g.debugDisconnected(c, nil, closing, code, reason)
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

// sseReplay appends to first what the client missed on every channel since
// the cursor, in serial order, then releases the live frames held
// meanwhile. The cursor's message (its anchor) must be stored on one of
// the channels within the resume window, as on WebSockets; otherwise the
// stream replays nothing, says so with a herald_internal:resume_result
// event, and goes live. The anchor's stored time decides, not
// the cursor's: a cursor naming a future time proves nothing.
func (g *Gateway) sseReplay(ctx context.Context, first *sse.First, c *conn, app *channels.AppConfig, subs []*subscription, cur sse.Cursor) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.PublishTimeout)
	defer cancel()
	since := g.cfg.Now().Add(-app.Settings.ResumeWindow())
	// A cursor stamped before the window is not read at all.
	readable := !time.UnixMilli(cur.AtMs).Before(since)
	var all []stream.Delivery
	anchored, complete, beyond := false, readable, readable
	for _, sub := range subs {
		if !complete {
			break
		}
		// From the anchor on; at most MaxResumeReplay after it.
		msgs, err := g.cfg.Reader.Range(ctx, app.ID, sub.ch.Name, cur.Serial-1, 0, MaxResumeReplay+2)
		beyond = beyond && err == nil && len(msgs) == 0
		if len(msgs) > 0 && msgs[0].Serial == cur.Serial {
			anchored = anchored || !msgs[0].Time.Before(since)
			msgs = msgs[1:]
		}
		if err != nil || len(msgs) > MaxResumeReplay {
			complete = false
		}
		all = append(all, msgs...)
	}
	recovered := anchored && complete
	if !recovered {
		all = nil
	}
	// Live frames at or below the client's position are dropped, but a
	// position beyond every channel's newest message (a cursor from before
	// a stream reset) is none: live messages start from now.
	floor := cur.Serial
	if beyond {
		floor = 0
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Serial < all[j].Serial })
	last := map[string]uint64{}
	for i := range all {
		m := &all[i]
		appendSSE(first, storedFrame(m))
		last[m.Channel] = m.Serial
	}
	first.Bytes = sse.AppendUnnumbered(first.Bytes, protocol.EventResumeResult, resumeResult(recovered, beyond))

	type gap struct {
		sub      *subscription
		from, to uint64
	}
	var gaps []gap
	var verify []*subscription
	c.mu.Lock()
	for _, sub := range subs {
		floor := max(last[sub.ch.Name], floor)
		sub.verify = recovered
		if to := c.releaseLocked(sub, floor, func(h heldFrame) { appendSSE(first, h) }); to > 0 {
			gaps = append(gaps, gap{sub, floor, to})
		} else if sub.verify {
			verify = append(verify, sub)
		}
	}
	c.mu.Unlock()
	// Fetched gaps go to the stream's queue, which is written after first.
	for _, gp := range gaps {
		g.catchUp(c, gp.sub, gp.from, gp.to)
	}
	for _, sub := range verify {
		g.scheduleTailCheck(c, sub)
	}
}

// sseCached appends to first the last event of every cache channel of a
// stream opened without a cursor, then releases the live frames held
// meanwhile (a miss writes nothing: an SSE stream carries only channel
// messages).
func (g *Gateway) sseCached(first *sse.First, c *conn, subs []*subscription) {
	emit := func(h heldFrame) { appendSSE(first, h) }
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

// appendSSE appends a frame written ahead of the stream's queue (a
// replay), counting it as a channel event; frames without a serial
// (protocol events) are not streamed.
func appendSSE(first *sse.First, h heldFrame) {
	if h.serial == 0 {
		return
	}
	e := h.sseEvent()
	n := len(first.Bytes)
	first.Bytes = sse.AppendEvent(first.Bytes, &e, time.Now().UnixMilli())
	first.Events++
	first.EventBytes += len(first.Bytes) - n
}
