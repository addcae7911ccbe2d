package api

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/internal/hoptrace"
)

// ctxHopT0 keeps a request's arrival time (Unix ns) in the echo context
// while hop tracing is on.
const ctxHopT0 = "herald.hop_t0"

// stampArrival notes when a request reached the API: the first thing
// echo runs, before routing and every middleware. It is installed only
// with hop tracing on (Config.Hops).
func stampArrival(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxHopT0, time.Now().UnixNano())
		return next(c)
	}
}

// hopsBeforeStore records the api hop, from the request's arrival to
// start (just before the JetStream publish), and stamps msgs with the
// arrival so that the gateway can time the rest of the way. Called only
// with a.hops set.
func (a *API) hopsBeforeStore(c echo.Context, msgs []stream.Message, start time.Time) {
	t0, ok := c.Get(ctxHopT0).(int64)
	if !ok {
		return
	}
	a.hops.Since(hoptrace.API, t0, start.UnixNano())
	for i := range msgs {
		msgs[i].TraceT0 = t0
	}
}

// hopStored records the store hop: the JetStream publish that began at
// start, until its acks came back. Called only with a.hops set.
func (a *API) hopStored(start time.Time) {
	a.hops.Since(hoptrace.Store, start.UnixNano(), time.Now().UnixNano())
}
