package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/debugstream"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// The console's live debug stream (docs/console.md, "Debug stream"):
// GET /admin/v1/apps/{id}/debug/events answers Server-Sent Events, one
// channels.DebugEvent per data line, while a bus/debugstream watch holds
// the app's interest.

// DefaultDebugHeartbeat is the period of the stream's comment lines,
// which keep proxies from closing an idle stream.
const DefaultDebugHeartbeat = 15 * time.Second

// debugWriteTimeout bounds one write to a console: one that takes
// nothing for this long is cut off, so that neither it nor a shutdown
// waits on it (meanwhile its events are dropped and counted).
const debugWriteTimeout = 10 * time.Second

// mimeEventStream is the media type of Server-Sent Events.
const mimeEventStream = "text/event-stream"

// DebugConfig configures the debug stream and the API's own debug events.
type DebugConfig struct {
	// Watchers reads an app's events; nil answers the route 503.
	Watchers *debugstream.Watchers
	// Events publishes the api_message events of watched apps; nil
	// publishes none.
	Events *debugstream.Publisher
	// Heartbeat is the period of comment lines; zero means
	// DefaultDebugHeartbeat.
	Heartbeat time.Duration
}

// Server-Sent Events framing of the stream.
var (
	sseData      = []byte("data: ")
	sseEnd       = []byte("\n\n")
	sseHeartbeat = []byte(": keepalive\n\n")
)

// StopStreams ends every open debug stream, so that a graceful shutdown
// of the HTTP server does not wait for consoles to leave. Register it
// with http.Server.RegisterOnShutdown; safe to call more than once.
func (a *API) StopStreams() { a.stopStreams.Do(func() { close(a.streamsDone) }) }

// debugEvents serves an app's live debug stream until the client leaves
// or the server stops. The app is looked up in the store, so a disabled
// app can be watched too.
func (a *API) debugEvents(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := a.store.GetApp(ctx, c.Param("id")); err != nil {
		return err
	}
	if a.debug.Watchers == nil {
		return &channels.Error{Code: channels.CodeUnavailable, Message: "the debug stream is not available on this process"}
	}
	res := c.Response()
	if isHead(c) {
		// The stream's headers, without watching the app.
		startEventStream(res)
		return nil
	}
	rc := http.NewResponseController(res)
	st, err := a.debug.Watchers.Watch(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	defer st.Close()

	startEventStream(res)
	ready, _ := json.Marshal(channels.DebugEvent{Type: channels.DebugReady, Time: a.now().UnixMilli()})
	if writeEvent(rc, res, ready) != nil || flush(rc) != nil {
		return nil
	}

	beat := time.NewTicker(a.debug.Heartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-a.streamsDone:
			return nil
		case <-beat.C:
			err = writeDeadline(rc)
			if err == nil {
				_, err = res.Write(sseHeartbeat)
			}
		case ev := <-st.Events():
			err = writeEvent(rc, res, ev)
			// Write what else is waiting before one flush.
			for n := len(st.Events()); n > 0 && err == nil; n-- {
				err = writeEvent(rc, res, <-st.Events())
			}
		}
		if err == nil {
			err = flush(rc)
		}
		if err != nil {
			return nil // the client left, or takes nothing
		}
	}
}

// startEventStream sends the status and headers of a stream.
func startEventStream(res *echo.Response) {
	h := res.Header()
	h.Set(echo.HeaderContentType, mimeEventStream)
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no")
	res.WriteHeader(http.StatusOK)
}

// writeDeadline bounds the writes until the next flush, where the server
// can.
func writeDeadline(rc *http.ResponseController) error {
	return setDeadline(rc, time.Now().Add(debugWriteTimeout))
}

// flush sends what was written and lifts the deadline: an idle stream
// between heartbeats must not be past one at its next write.
func flush(rc *http.ResponseController) error {
	if err := rc.Flush(); err != nil {
		return err
	}
	return setDeadline(rc, time.Time{})
}

func setDeadline(rc *http.ResponseController, t time.Time) error {
	if err := rc.SetWriteDeadline(t); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// writeEvent writes one data line. ev is JSON, which holds no newline.
func writeEvent(rc *http.ResponseController, res *echo.Response, ev []byte) error {
	if err := writeDeadline(rc); err != nil {
		return err
	}
	if _, err := res.Write(sseData); err != nil {
		return err
	}
	if _, err := res.Write(ev); err != nil {
		return err
	}
	_, err := res.Write(sseEnd)
	return err
}

// debugPublished reports the messages a publish stored to a watched
// app's console, a duplicate (an idempotent retry) excepted.
func (a *API) debugPublished(appID string, msgs []stream.Message, results []stream.Result) {
	if !a.debug.Events.Watched(appID) {
		return
	}
	for i, r := range results {
		if r.Err != nil || r.Duplicate || i >= len(msgs) {
			continue
		}
		m := &msgs[i]
		preview, cut := channels.DebugPreview(m.Data)
		a.debug.Events.Publish(appID, channels.DebugEvent{
			Type: channels.DebugAPIMessage, Channel: m.Channel, Event: m.Event, Serial: r.Serial,
			Size: len(m.Data), Preview: preview, Truncated: cut, SocketID: m.ExcludeSocket,
		})
	}
}
